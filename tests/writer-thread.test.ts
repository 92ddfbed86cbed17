import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../src/store/open-store.js';
import { queryAuditLogs } from '../src/store/queries.js';
import { verifyAuditChains } from '../src/store/verify/index.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { createCheckpointSigner } from '../src/store/writer/checkpoint-signer.js';
import { REPO_ROOT } from './support/cli.js';
import { makeRecord } from './support/records.js';
import { openTestStore, scratchDir, type TestStore } from './support/stores.js';

/**
 * Where the writer runs. On Postgres (and a machine with a second core) sealing, journaling and
 * delivery run on a worker thread of their own; the promises are those of the inline writer.
 */
describe('the writer thread', () => {
  let postgres: TestStore;
  let pglite: TestStore;

  beforeAll(async () => {
    postgres = await openTestStore('postgres');
    pglite = await openTestStore('pglite');
  });

  afterAll(async () => {
    await postgres?.close();
    await pglite?.close();
  });

  it('runs a Postgres store’s writer on a thread of its own, and an embedded store’s inline', async () => {
    const threaded = new AuditWriter({ store: postgres.store, journalDir: null });
    const inline = new AuditWriter({ store: pglite.store, journalDir: null });
    expect(threaded.thread).toBe('worker');
    expect(inline.thread).toBe('inline');
    await threaded.shutdown();
    await inline.shutdown();
  });

  it('refuses thread "worker" where the store cannot be opened from another thread, naming why', () => {
    expect(
      () => new AuditWriter({ store: pglite.store, journalDir: null, thread: 'worker' }),
    ).toThrow(
      /thread 'worker' is not possible: the pglite store cannot be opened from another thread/,
    );
    expect(() => new AuditWriter({ store: postgres.store, thread: 'elsewhere' as never })).toThrow(
      /AuditWriter: thread must be 'auto', 'worker' or 'inline'/,
    );
  });

  it('stays inline with a signer it cannot rebuild on the thread', async () => {
    const signer = createCheckpointSigner('a-shared-secret-of-some-length');
    const custom = { ...signer, sign: signer.sign, verify: signer.verify };
    const writer = new AuditWriter({
      store: postgres.store,
      journalDir: null,
      checkpoints: { signer: custom },
    });
    expect(writer.thread).toBe('inline');
    await writer.shutdown();
  });

  it('writes a chain that verifies, with tree heads signed on the thread by an Ed25519 key', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const signer = createCheckpointSigner(privateKey);
    const heads: number[] = [];
    const writer = new AuditWriter({
      store: postgres.store,
      journalDir: scratchDir(),
      batchSize: 100,
      checkpoints: { signer, everyRecords: 200, onCheckpoint: (c) => heads.push(c.chainSeq) },
    });
    expect(writer.thread).toBe('worker');
    for (let i = 0; i < 1_000; i++) writer.enqueue(makeRecord(i));
    await writer.flush();
    expect(writer.stats()).toMatchObject({
      received: 1_000,
      accepted: 1_000,
      written: 1_000,
      queueDepth: 0,
      dropped: 0,
    });
    await writer.shutdown();
    expect(heads[0]).toBe(0);
    expect(heads.at(-1)).toBe(1_000);
    const report = await verifyAuditChains(postgres.store, { chainId: writer.chainId, signer });
    expect(report.ok).toBe(true);
    expect(report.chains[0]).toMatchObject({ rowsChecked: 1_000, failures: 0 });
    expect(report.chains[0]?.checkpoints).toMatchObject({
      total: heads.length,
      verified: heads.length,
    });
  });

  it('counts a record handed over but not yet taken by the thread in queueDepth, at once', async () => {
    const writer = new AuditWriter({ store: postgres.store, journalDir: null });
    writer.enqueue(makeRecord(1));
    writer.enqueue(makeRecord(2));
    expect(writer.stats()).toMatchObject({ received: 2, queueDepth: 2 });
    await writer.shutdown();
    expect(writer.stats()).toMatchObject({ received: 2, written: 2, queueDepth: 0 });
  });

  it('bounds memory in bytes on both sides of the hand-over: a record past twice maxQueueBytes is dropped before it joins memory', async () => {
    // No database answers and no journal takes anything: memory is all there is.
    const unreachable = await openAuditStore({
      databaseUrl: 'postgres://postgres@127.0.0.1:1/nowhere',
      migrate: false,
    });
    const maxQueueBytes = 128 * 1024;
    const writer = new AuditWriter({
      store: unreachable,
      thread: 'worker',
      journalDir: null,
      maxQueueBytes,
      maxQueueRecords: 100_000,
      logger: { warn() {}, error() {} },
    });
    let peak = 0;
    // A synchronous burst: the calling thread would gather a whole hand-over (256 records)
    // before the thread takes any.
    for (let i = 0; i < 300; i++) {
      writer.enqueue(makeRecord(i, { metadata: { note: 'x'.repeat(8_000) } }));
      peak = Math.max(peak, writer.stats().queueBytes);
    }
    const stats = writer.stats();
    expect(stats.queueDepth + stats.dropped).toBe(300);
    expect(peak).toBeLessThanOrEqual(2 * maxQueueBytes);
    await writer.shutdown({ deadlineMs: 500 });
    await unreachable.close();
  });

  it('stores metadata JSON cannot carry across threads with the reason, as the inline writer does', async () => {
    const writer = new AuditWriter({ store: postgres.store, journalDir: null });
    const record = makeRecord(7, { metadata: { source: 'test', amount: 10n as never } });
    writer.enqueue(record);
    await writer.shutdown();
    expect(writer.stats()).toMatchObject({ written: 1, dropped: 0 });
    const [row] = await queryAuditLogs(postgres.store, { traceId: record.traceId, limit: 1 });
    expect(String(row?.metadata.aitrailError)).toMatch(/metadata not serializable/);
  });

  it('starts, and verify’s walk threads start, under an app run with V8 options and preloads; the preloads never run in them', async () => {
    const marker = join(scratchDir(), 'threads');
    const preload = `${REPO_ROOT}tests/fixtures/preload-marker.cjs`;
    const child = spawn(
      process.execPath,
      [
        // V8 and process-wide options a worker refuses (ERR_WORKER_INVALID_EXEC_ARGV), and a
        // per-thread one it takes.
        '--max-old-space-size=512',
        '--expose-gc',
        '--stack-size=900',
        '--enable-source-maps',
        '--require',
        preload,
        '--import',
        'tsx',
        `${REPO_ROOT}tests/fixtures/threaded-writer.ts`,
      ],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          DATABASE_URL: postgres.databaseUrl,
          WRITE_COUNT: '20',
          PRELOAD_MARKER_FILE: marker,
          NODE_OPTIONS: `--require "${preload}"`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(0);
    expect(JSON.parse(/^stats (.*)$/m.exec(out)?.[1] ?? '{}')).toMatchObject({ written: 20 });
    expect(JSON.parse(/^verify (.*)$/m.exec(out)?.[1] ?? '{}')).toEqual({ ok: true, threads: 1 });
    // The preload ran in the application's thread only: never in the writer's or a walk thread
    // (the threads tsx and esbuild start when run from source are not ours).
    const threads = readFileSync(marker, 'utf8').split('\n').filter(Boolean);
    const tooling = new Set(['internal', 'esbuild']);
    expect(threads.filter((thread) => !tooling.has(thread))).toEqual(['main']);
  });

  it('drops and counts a record that arrives after shutdown', async () => {
    const logged: string[] = [];
    const writer = new AuditWriter({
      store: postgres.store,
      journalDir: null,
      logger: { warn: (m) => logged.push(m), error: (m) => logged.push(m) },
    });
    await writer.shutdown();
    writer.enqueue(makeRecord(3));
    expect(writer.stats()).toMatchObject({ received: 1, dropped: 1, queueDepth: 0 });
    expect(logged.join('\n')).toMatch(
      /DROPPED 1 audit record\(s\): a record arrived after shutdown/,
    );
  });
});

describe('a checkpoint signer', () => {
  it('keeps its key out of enumerable properties and JSON, though the writer thread can rebuild it', () => {
    const secret = 'a-shared-secret-of-some-length';
    const signer = createCheckpointSigner(secret);
    expect(JSON.stringify(signer)).not.toContain(secret);
    expect(Object.values(signer)).not.toContain(secret);
    expect({ ...signer }).not.toHaveProperty('key');
  });
});
