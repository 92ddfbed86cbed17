import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initAuditTelemetry, recordAuditEvent } from '../../src/index.js';
import { openAuditStore } from '../../src/store/open-store.js';
import { verifyAuditChains } from '../../src/store/verify/index.js';
import { AuditWriter } from '../../src/store/writer/audit-writer.js';
import { compiledEntry, REPO_ROOT, runTs } from '../support/cli.js';
import type { ThrowawayCluster } from '../support/pg-cluster.js';
import { startPrivateCluster } from '../support/postgres.js';
import { makeRecord } from '../support/records.js';
import { scratchDir } from '../support/stores.js';

/**
 * Delivery through outages, crashes and overload, against a private Postgres cluster that the
 * tests stop with `pg_ctl stop -m immediate` and start again.
 */
describe('no audit event lost', () => {
  let cluster: ThrowawayCluster;
  let admin: postgres.Sql;
  let dbCounter = 0;
  /** Fixture processes still running; killed after each test, whatever its outcome. */
  const children = new Set<ChildProcess>();

  afterEach(() => {
    for (const child of children) child.kill('SIGKILL');
    children.clear();
  });

  beforeAll(async () => {
    // fsync and synchronous_commit stay on: an immediate stop must not lose acknowledged commits.
    cluster = await startPrivateCluster();
    admin = postgres(cluster.url, { onnotice: () => {}, max: 1 });
  });

  afterAll(async () => {
    await admin?.end();
    await cluster?.stop();
  });

  async function freshDatabase(): Promise<string> {
    dbCounter += 1;
    const name = `durability_${dbCounter}`;
    await admin.unsafe(`create database ${name}`);
    const url = new URL(cluster.url);
    url.pathname = `/${name}`;
    return url.toString();
  }

  async function summary(url: string) {
    const store = await openAuditStore({ databaseUrl: url, migrate: false });
    try {
      const [counts] = await store.query<{ rows: number; distinct: number }>(
        'select count(*)::int as rows, count(distinct event_id)::int as distinct from audit_logs',
      );
      const report = await verifyAuditChains(store);
      return {
        rows: counts?.rows,
        distinct: counts?.distinct,
        verified: report.ok,
        chains: report.chains.length,
      };
    } finally {
      await store.close();
    }
  }

  /** Starts the fixture app; the returned promise resolves with its `stats` line. */
  function startFixture(env: NodeJS.ProcessEnv): {
    child: ChildProcess;
    stats: Promise<Record<string, number>>;
  } {
    const child = spawn(process.execPath, [compiledEntry('tests/fixtures/emit-events.ts')], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.on('exit', () => children.delete(child));
    const stats = new Promise<Record<string, number>>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk) => {
        out += chunk;
        const line = out.split('\n').find((l) => l.startsWith('stats '));
        if (line) resolve(JSON.parse(line.slice(6)));
      });
      child.on('exit', (code) => reject(new Error(`fixture exited early with ${code}`)));
    });
    return { child, stats };
  }

  function exitSignal(child: ChildProcess): Promise<NodeJS.Signals | null> {
    return new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  }

  function journalFiles(dataDir: string): string[] {
    const root = join(dataDir, 'journal');
    if (!existsSync(root)) return [];
    // <journal>/<store key>/<chain id>/*.jnl
    return readdirSync(root, { withFileTypes: true })
      .filter((store) => store.isDirectory())
      .flatMap((store) =>
        readdirSync(join(root, store.name), { withFileTypes: true })
          .filter((chain) => chain.isDirectory())
          .flatMap((chain) =>
            readdirSync(join(root, store.name, chain.name)).filter((f) => f.endsWith('.jnl')),
          ),
      );
  }

  it('Postgres killed mid-emission and restarted: exactly 20,000 rows, no duplicates, chains verify', async () => {
    const url = await freshDatabase();
    const telemetry = await initAuditTelemetry({
      serviceName: 'outage-test',
      databaseUrl: url,
      dataDir: scratchDir(),
      handleSignals: false,
      delivery: { maxQueueRecords: 2_000, flushIntervalMs: 20, shutdownDeadlineMs: 60_000 },
    });
    const total = 20_000;
    for (let i = 0; i < total; i++) {
      recordAuditEvent({
        action: 'test.outage',
        actor: { type: 'service', id: 'emitter' },
        resourceId: String(i),
      });
      if (i % 250 === 249) await new Promise((r) => setImmediate(r));
      if (i === 5_000) await cluster.stopCluster('immediate');
      if (i === 15_000) await cluster.startCluster();
    }
    await telemetry.shutdown();
    const stats = telemetry.stats();
    expect(stats.dropped).toBe(0);
    expect(stats.journaled).toBeGreaterThan(0);
    expect(stats.received).toBe(total);
    expect(await summary(url)).toEqual({ rows: total, distinct: total, verified: true, chains: 1 });
  });

  it('Postgres down when the application starts and up later: every event arrives', async () => {
    const url = await freshDatabase();
    await cluster.stopCluster('immediate');
    let restarted = false;
    try {
      const telemetry = await initAuditTelemetry({
        serviceName: 'late-db-test',
        databaseUrl: url,
        dataDir: scratchDir(),
        handleSignals: false,
        delivery: { shutdownDeadlineMs: 60_000 },
      });
      for (let i = 0; i < 3_000; i++) {
        recordAuditEvent({
          action: 'test.late_database',
          actor: { type: 'service', id: 'emitter' },
        });
      }
      await telemetry.flush();
      expect(telemetry.stats().written).toBe(0);
      expect(telemetry.stats().journaled).toBe(3_000);
      await cluster.startCluster();
      restarted = true;
      await telemetry.shutdown();
      expect(telemetry.stats()).toMatchObject({ written: 3_000, dropped: 0 });
    } finally {
      if (!restarted) await cluster.startCluster();
    }
    expect(await summary(url)).toEqual({ rows: 3_000, distinct: 3_000, verified: true, chains: 1 });
  });

  it('while the database is down, new records do not cut the backoff short and the log repeats nothing', async () => {
    const url = await freshDatabase();
    const store = await openAuditStore({ databaseUrl: url });
    const messages: string[] = [];
    const logger = {
      warn: (m: string) => messages.push(m),
      error: (m: string) => messages.push(m),
    };
    const writer = new AuditWriter({ store, logger, batchSize: 100, journalDir: scratchDir() });
    await cluster.stopCluster('immediate');
    try {
      for (let i = 0; i < 40; i++) {
        for (let j = 0; j < 100; j++) writer.enqueue(makeRecord(i * 100 + j));
        await new Promise((r) => setTimeout(r, 50));
      }
      // 2 s of steady arrivals at ~2,000 records/s: backoff from 50 ms doubling, not one retry per batch.
      expect(writer.stats().failedWrites).toBeLessThan(15);
      expect(messages.filter((m) => m.includes('failed')).length).toBe(1);
    } finally {
      await cluster.startCluster();
    }
    await writer.shutdown({ deadlineMs: 30_000 });
    await store.close();
    expect(writer.stats()).toMatchObject({ received: 4_000, written: 4_000, dropped: 0 });
  });

  it('a write that never answers is abandoned after writeTimeoutMs, connections are recycled, and every record arrives once', async () => {
    const url = await freshDatabase();
    const store = await openAuditStore({ databaseUrl: url });
    const writer = new AuditWriter({
      store,
      journalDir: scratchDir(),
      writeTimeoutMs: 500,
      logger: { warn() {}, error() {} },
    });
    const blocker = postgres(url, { onnotice: () => {}, max: 1 });
    try {
      // The writer is running and has written before the table is held (however long it takes
      // to start): what is measured is a write that hangs, not a start.
      writer.enqueue(makeRecord(300));
      await writer.flush();
      // Another session holds the table: inserts wait instead of failing.
      const holding = blocker.begin(async (tx) => {
        await tx`lock table audit_logs in access exclusive mode`;
        await new Promise((r) => setTimeout(r, 2_000));
      });
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 300; i++) writer.enqueue(makeRecord(i));
      await new Promise((r) => setTimeout(r, 1_200));
      expect(writer.stats().failedWrites).toBeGreaterThan(0);
      await holding;
      await writer.shutdown({ deadlineMs: 20_000 });
      expect(writer.stats()).toMatchObject({ received: 301, dropped: 0 });
      const [count] = await store.query<{ n: number }>(
        'select count(*)::int as n, count(distinct event_id)::int as d from audit_logs',
      );
      expect(count).toMatchObject({ n: 301, d: 301 });
    } finally {
      await blocker.end();
      await store.close();
    }
  });

  it('a process killed with SIGKILL while its journal holds records is replayed exactly once by the next one', async () => {
    const url = await freshDatabase();
    const dataDir = scratchDir();
    const env = { DATABASE_URL: url, AITRAIL_DATA_DIR: dataDir, EMIT_LABEL: 'crash' };
    await cluster.stopCluster('immediate');
    let stats: Record<string, number> | undefined;
    try {
      const fixture = startFixture({ ...env, EMIT_COUNT: '4000', EMIT_MODE: 'flush-and-hold' });
      const child = fixture.child;
      stats = await fixture.stats;
      expect(stats?.journaled).toBe(4_000);
      expect(journalFiles(dataDir).length).toBeGreaterThan(0);
      const exited = exitSignal(child);
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
    } finally {
      await cluster.startCluster();
    }
    const second = await runTs('tests/fixtures/emit-events.ts', [], {
      env: { ...env, EMIT_COUNT: '0' },
    });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('"replayed":4000');
    expect(journalFiles(dataDir)).toEqual([]);
    expect(await summary(url)).toEqual({ rows: 4_000, distinct: 4_000, verified: true, chains: 1 });
  });

  it('overload: 50,000 events against a slowed database stay within the memory bound and none is dropped', async () => {
    const url = await freshDatabase();
    const migrate = await openAuditStore({ databaseUrl: url });
    await migrate.close();
    const slow = postgres(url, { onnotice: () => {}, max: 1 });
    await slow
      .unsafe(`
      create function slow_down() returns trigger language plpgsql as $$
      begin perform pg_sleep(0.05); return null; end $$;
      create trigger slow_inserts before insert on audit_logs for each statement execute function slow_down();
    `)
      .simple();
    await slow.end();
    // 20 times the queue bound: most records must go to the journal, none may be dropped.
    const maxQueue = 2_500;
    const result = await runTs('tests/fixtures/emit-events.ts', [], {
      env: {
        DATABASE_URL: url,
        AITRAIL_DATA_DIR: scratchDir(),
        EMIT_LABEL: 'overload',
        EMIT_COUNT: '50000',
        EMIT_MAX_QUEUE: String(maxQueue),
        EMIT_SHUTDOWN_DEADLINE_MS: '240000',
      },
      timeoutMs: 280_000,
    });
    expect(result.code).toBe(0);
    const stats = JSON.parse(/^stats (.*)$/m.exec(result.stdout)?.[1] ?? '{}');
    const peak = JSON.parse(/^peak (.*)$/m.exec(result.stdout)?.[1] ?? '{}');
    console.log(
      `overload: peak queue ${peak.queueDepth} records (bound ${maxQueue}), peak RSS ${(peak.rssBytes / 2 ** 20).toFixed(0)} MiB, journaled ${stats.journaled}`,
    );
    expect(stats).toMatchObject({ received: 50_000, dropped: 0 });
    expect(stats.journaled).toBeGreaterThan(0);
    expect(peak.queueDepth).toBeLessThanOrEqual(maxQueue);
    expect(await summary(url)).toEqual({
      rows: 50_000,
      distinct: 50_000,
      verified: true,
      chains: 1,
    });
  }, 300_000);

  it('SIGTERM drains what is still in memory before the process exits', async () => {
    const url = await freshDatabase();
    const { child, stats } = startFixture({
      DATABASE_URL: url,
      AITRAIL_DATA_DIR: scratchDir(),
      EMIT_COUNT: '2000',
      EMIT_MODE: 'hold',
      EMIT_BATCH_SIZE: '100000',
      EMIT_FLUSH_INTERVAL_MS: '600000',
    });
    const held = await stats;
    expect(held.written).toBe(0);
    const exited = exitSignal(child);
    child.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    expect(await summary(url)).toEqual({ rows: 2_000, distinct: 2_000, verified: true, chains: 1 });
  });

  it('process.exit() with records still in memory journals them, and the next start writes them', async () => {
    const url = await freshDatabase();
    const dataDir = scratchDir();
    const env = { DATABASE_URL: url, AITRAIL_DATA_DIR: dataDir, EMIT_LABEL: 'exiting' };
    const first = await runTs('tests/fixtures/emit-events.ts', [], {
      env: {
        ...env,
        EMIT_COUNT: '1200',
        EMIT_MODE: 'process-exit',
        EMIT_FLUSH_INTERVAL_MS: '600000',
        EMIT_BATCH_SIZE: '100000',
      },
    });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('"written":0');
    expect(journalFiles(dataDir).length).toBeGreaterThan(0);
    const second = await runTs('tests/fixtures/emit-events.ts', [], {
      env: { ...env, EMIT_COUNT: '0' },
    });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('"replayed":1200');
    expect(await summary(url)).toEqual({ rows: 1_200, distinct: 1_200, verified: true, chains: 1 });
  });

  it('a process that simply runs out of work flushes on beforeExit', async () => {
    const url = await freshDatabase();
    const result = await runTs('tests/fixtures/emit-events.ts', [], {
      env: {
        DATABASE_URL: url,
        AITRAIL_DATA_DIR: scratchDir(),
        EMIT_COUNT: '1500',
        EMIT_MODE: 'exit',
        EMIT_BATCH_SIZE: '100000',
        EMIT_FLUSH_INTERVAL_MS: '600000',
      },
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"written":0');
    expect(await summary(url)).toEqual({ rows: 1_500, distinct: 1_500, verified: true, chains: 1 });
  });
});
