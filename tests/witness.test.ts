import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointRecord } from '../src/store/audit-record.js';
import type { AuditStore } from '../src/store/audit-store.js';
import { openAuditStore } from '../src/store/open-store.js';
import { loadCheckpoints } from '../src/store/verify/checkpoints.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { createCheckpointSigner } from '../src/store/writer/checkpoint-signer.js';
import { runCli } from './support/cli.js';
import { testDatabaseUrl } from './support/postgres.js';
import { makeRecord } from './support/records.js';
import { scratchDir } from './support/stores.js';

const KEY = 'witness-test-signing-key-0123456789';
const signer = createCheckpointSigner(KEY);

describe('the witness', () => {
  let url: string;
  let store: AuditStore;
  let server: Server;
  let posted: CheckpointRecord[] = [];
  let endpoint: string;

  beforeAll(async () => {
    url = await testDatabaseUrl();
    store = await openAuditStore(url);
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        posted.push(JSON.parse(body) as CheckpointRecord);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/heads`;
  });

  afterAll(async () => {
    await store?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('receives every stored tree head, in order, in the per-chain file and at the HTTP endpoint', async () => {
    posted = [];
    const witnessDir = scratchDir('aitrail-witness-');
    const writer = new AuditWriter({
      store,
      journalDir: null,
      batchSize: 10,
      maxInFlight: 1,
      checkpoints: { everyRecords: 10, signer, witnessDir, witnessUrl: endpoint },
    });
    for (let i = 0; i < 30; i++) writer.enqueue(makeRecord(i));
    await writer.shutdown();
    const stored = await loadCheckpoints(store, writer.chainId);
    const lines = readFileSync(join(witnessDir, `${writer.chainId}.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as CheckpointRecord);
    expect(lines.map((h) => [h.kind, h.chainSeq])).toEqual([
      ['genesis', 0],
      ['periodic', 10],
      ['periodic', 20],
      ['periodic', 30],
      ['final', 30],
    ]);
    expect(lines).toEqual(stored);
    expect(posted).toEqual(lines);
    expect(lines.every((h) => signer.verify(h))).toBe(true);
  });

  it('aitrail verify --witness passes on an intact chain; --max-unanchored-age fails on rows no head covers', async () => {
    const witnessDir = scratchDir('aitrail-witness-');
    const dbUrl = await testDatabaseUrl();
    const own = await openAuditStore(dbUrl);
    const writer = new AuditWriter({
      store: own,
      journalDir: null,
      batchSize: 10,
      maxInFlight: 1,
      checkpoints: { everyRecords: 10, everyMs: 3_600_000, signer, witnessDir },
    });
    for (let i = 0; i < 25; i++) writer.enqueue(makeRecord(i));
    await writer.flush();
    const env = { AITRAIL_SIGNING_KEY: KEY };
    const intact = await runCli(['verify', '--database-url', dbUrl, '--witness', witnessDir], {
      env,
    });
    expect(intact.stdout).toContain('5 row(s) in 1 chain(s) are newer than');
    expect(intact.code).toBe(0);
    const admin = postgres(dbUrl, { onnotice: () => {} });
    await admin`set session_replication_role = replica`;
    await admin`update audit_logs set recorded_at = now() - interval '2 hours' where chain_seq > 20`;
    await admin.end();
    const stale = await runCli(
      ['verify', '--database-url', dbUrl, '--witness', witnessDir, '--max-unanchored-age', '1h'],
      { env },
    );
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(/unanchored_rows .* seq 21/);
    await writer.shutdown();
    await own.close();
  });
});
