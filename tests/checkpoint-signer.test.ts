import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointRecord } from '../src/store/audit-record.js';
import { verifyAuditChains } from '../src/store/verify/index.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { createCheckpointSigner } from '../src/store/writer/checkpoint-signer.js';
import { makeRecord } from './support/records.js';
import { openTestStore, type TestStore } from './support/stores.js';

const unsigned: Omit<CheckpointRecord, 'signature'> = {
  chainId: 'chain-1',
  kind: 'periodic',
  chainSeq: 42,
  rootHash: 'c'.repeat(64),
  prevCheckpointHash: 'd'.repeat(64),
  hashVersion: 2,
  headHash: 'a'.repeat(64),
  createdAt: '2026-11-27T10:00:00.000Z',
  serviceName: 'svc',
  algorithm: 'hmac-sha256',
  keyId: null,
  final: false,
};

describe('checkpoint signatures', () => {
  it('HMAC-SHA256: a signature verifies with the same secret and fails for any changed field', () => {
    const signer = createCheckpointSigner('a-shared-secret-of-enough-length');
    const base = { ...unsigned, algorithm: signer.algorithm, keyId: signer.keyId };
    const signed: CheckpointRecord = { ...base, signature: signer.sign(base) };
    expect(signer.verify(signed)).toBe(true);
    expect(signer.verify({ ...signed, chainSeq: 43 })).toBe(false);
    expect(signer.verify({ ...signed, headHash: 'b'.repeat(64) })).toBe(false);
    expect(signer.verify({ ...signed, final: true })).toBe(false);
    expect(createCheckpointSigner('another-secret-of-enough-length').verify(signed)).toBe(false);
    expect(signer.keyId).not.toContain('a-shared-secret');
  });

  it('refuses an HMAC secret shorter than 16 characters', () => {
    expect(() => createCheckpointSigner('short')).toThrow(/at least 16 characters/);
  });

  it('Ed25519: signs with the private key and verifies with the public key alone', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = createCheckpointSigner(
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    const verifier = createCheckpointSigner(
      publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    expect(signer.algorithm).toBe('ed25519');
    expect(verifier.keyId).toBe(signer.keyId);
    const base = { ...unsigned, algorithm: signer.algorithm, keyId: signer.keyId };
    const signed: CheckpointRecord = { ...base, signature: signer.sign(base) };
    expect(verifier.verify(signed)).toBe(true);
    expect(verifier.verify({ ...signed, chainSeq: 41 })).toBe(false);
    expect(() => verifier.sign(base)).toThrow(/can verify but not sign/);
  });

  it('rejects a key of another type', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() =>
      createCheckpointSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    ).toThrow(/expected an Ed25519 key/);
  });
});

describe('a chain checkpointed with Ed25519', () => {
  let db: TestStore;

  beforeAll(async () => {
    db = await openTestStore('pglite');
  });

  afterAll(async () => {
    await db?.close();
  });

  it('verifies with the public key, and a checkpoint signed by another key is reported as forged', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signer = createCheckpointSigner(
      privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    const writer = new AuditWriter({ store: db.store, journalDir: null, checkpoints: { signer } });
    for (let i = 0; i < 30; i++) writer.enqueue(makeRecord(i));
    await writer.shutdown();

    const verifier = createCheckpointSigner(
      publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    const report = await verifyAuditChains(db.store, { chainId: writer.chainId, signer: verifier });
    expect(report).toMatchObject({ ok: true, signatures: 'verified' });

    const other = createCheckpointSigner(
      generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    const forged = await verifyAuditChains(db.store, { chainId: writer.chainId, signer: other });
    expect(forged.ok).toBe(false);
    expect(forged.chains[0]?.firstFailure?.kind).toBe('forged_checkpoint');
  });
});
