import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../src/store/audit-store.js';
import { type InclusionProof, verifyInclusionProof } from '../src/store/merkle/index.js';
import { openAuditStore } from '../src/store/open-store.js';
import { proveEvent } from '../src/store/verify/prove.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { createCheckpointSigner } from '../src/store/writer/checkpoint-signer.js';
import { runCli } from './support/cli.js';
import { testDatabaseUrl } from './support/postgres.js';
import { makeRecord } from './support/records.js';
import { scratchDir } from './support/stores.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const verifier = createCheckpointSigner(publicPem);

/** Every single-character change of every value in the proof (hex stays hex, numbers +1). */
function* singleByteChanges(value: unknown, path: string[] = []): Generator<[string, unknown]> {
  if (typeof value === 'string') {
    for (let i = 0; i < value.length; i++) {
      const c = value[i] as string;
      const replacement = /[0-9a-f]/.test(c) ? (c === '0' ? '1' : '0') : c === 'x' ? 'y' : 'x';
      yield [`${path.join('.')}[${i}]`, value.slice(0, i) + replacement + value.slice(i + 1)];
    }
  } else if (typeof value === 'number') {
    yield [path.join('.'), value + 1];
  } else if (typeof value === 'boolean') {
    yield [path.join('.'), !value];
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      for (const [where, changed] of singleByteChanges(value[i], [...path, String(i)])) {
        const copy = [...value];
        copy[i] = changed;
        yield [where, copy];
      }
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      for (const [where, changed] of singleByteChanges(inner, [...path, key]))
        yield [where, { ...value, [key]: changed }];
    }
  }
}

describe('inclusion proofs', () => {
  let url: string;
  let store: AuditStore;
  let eventIds: string[] = [];

  beforeAll(async () => {
    url = await testDatabaseUrl();
    store = await openAuditStore(url);
    const writer = new AuditWriter({
      store,
      journalDir: null,
      batchSize: 25,
      checkpoints: { everyRecords: 40, signer: createCheckpointSigner(privatePem) },
    });
    const records = Array.from({ length: 203 }, (_, i) =>
      makeRecord(i, { subjectId: `user_${i % 3}` }),
    );
    eventIds = records.map((r) => r.eventId);
    for (const r of records) writer.enqueue(r);
    await writer.flush();
    await writer.shutdown();
  });

  afterAll(async () => {
    await store?.close();
  });

  it('a proof of any row verifies offline with the public key, with a path of at most ceil(log2 n) hashes', async () => {
    for (const index of [0, 1, 100, 201, 202]) {
      const proof = await proveEvent(store, { eventId: eventIds[index] as string });
      expect(proof.chainSeq).toBe(index + 1);
      expect(proof.treeHead.chainSeq).toBe(203);
      expect(proof.treeHead.kind).toBe('final');
      expect(proof.auditPath.length).toBeLessThanOrEqual(Math.ceil(Math.log2(203)));
      expect(verifyInclusionProof(proof, { signer: verifier })).toMatchObject({
        ok: true,
        treeSize: 203,
      });
    }
  });

  it('fails after any single-byte change to the row, the path or the head', async () => {
    const proof = await proveEvent(store, { eventId: eventIds[77] as string });
    let changes = 0;
    for (const [where, changed] of singleByteChanges(proof)) {
      changes += 1;
      const verdict = verifyInclusionProof(changed, { signer: verifier });
      if (verdict.ok) throw new Error(`a change at ${where} still verifies`);
    }
    expect(changes).toBeGreaterThan(1000);
  });

  it('fails with another key', async () => {
    const proof = await proveEvent(store, { eventId: eventIds[5] as string });
    const other = createCheckpointSigner(
      generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    expect(verifyInclusionProof(proof, { signer: other })).toMatchObject({ ok: false });
  });

  it('aitrail prove prints the proof; aitrail verify-proof exits 0 on it and 1 once a byte changed', async () => {
    const dir = scratchDir('aitrail-proof-');
    const keyFile = join(dir, 'public.pem');
    writeFileSync(keyFile, publicPem);
    const proved = await runCli(['prove', eventIds[150] as string, '--database-url', url]);
    expect(proved.code).toBe(0);
    const proof = JSON.parse(proved.stdout) as InclusionProof;
    expect(proof.eventId).toBe(eventIds[150]);
    const file = join(dir, 'proof.json');
    writeFileSync(file, proved.stdout);
    const ok = await runCli(['verify-proof', file, '--public-key', keyFile], {
      env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
    });
    expect(ok.stdout).toContain(`ok: ${eventIds[150]} is row 151`);
    expect(ok.code).toBe(0);
    // One character of the row's actor id (stored pseudonymised, "c1:…") changes.
    const tampered = proved.stdout.replace(
      /("actor_id\\":\\")(.)/,
      (_, key: string, first: string) => `${key}${first === 'x' ? 'y' : 'x'}`,
    );
    expect(tampered).not.toBe(proved.stdout);
    writeFileSync(file, tampered);
    const failed = await runCli(['verify-proof', file, '--public-key', keyFile]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/proof does not hold/);
  });

  it('aitrail prove of an unknown event exits 1 and says so', async () => {
    const result = await runCli(['prove', 'no-such-event', '--database-url', url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no audit row has event id no-such-event');
  });
});
