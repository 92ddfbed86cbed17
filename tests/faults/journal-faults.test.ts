import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuditSpanProcessor } from '../../src/processor/audit-span-processor.js';
import type { AuditStore } from '../../src/store/audit-store.js';
import { HashChain } from '../../src/store/hash-chain.js';
import { openAuditStore } from '../../src/store/open-store.js';
import { processStartTime } from '../../src/store/process-alive.js';
import { AuditWriter } from '../../src/store/writer/audit-writer.js';
import { storeJournalRoot } from '../../src/store/writer/journal-binding.js';
import { journalLine } from '../../src/store/writer/journal-line.js';
import { compiledEntry, REPO_ROOT } from '../support/cli.js';
import type { ThrowawayCluster } from '../support/pg-cluster.js';
import { startPrivateCluster } from '../support/postgres.js';
import { makeRecord } from '../support/records.js';
import { scratchDir } from '../support/stores.js';

type Stats = Record<string, number> & {
  journaled: number;
  queueDepth: number;
  dropped: number;
  received: number;
};

/**
 * The journal's promises under faults, against a private Postgres cluster the tests stop and
 * start: a disk that fills, a restarted container whose app is PID 1 again, a malformed line, a
 * journal found next to the wrong database.
 */
describe('the journal keeps its word', () => {
  let cluster: ThrowawayCluster;
  let admin: postgres.Sql;
  let dbCounter = 0;
  const children = new Set<ChildProcess>();
  const mounts: string[] = [];

  beforeAll(async () => {
    cluster = await startPrivateCluster();
    admin = postgres(cluster.url, { onnotice: () => {}, max: 1 });
  });

  afterEach(async () => {
    for (const child of children) child.kill('SIGKILL');
    children.clear();
    for (const dir of mounts.splice(0)) {
      try {
        execFileSync('umount', ['-l', dir]);
      } catch {
        // Already unmounted.
      }
    }
  });

  afterAll(async () => {
    await admin?.end();
    await cluster?.stop();
  });

  async function freshDatabase(name = `journal_${++dbCounter}`): Promise<string> {
    await admin.unsafe(`create database ${name}`);
    const url = new URL(cluster.url);
    url.pathname = `/${name}`;
    return url.toString();
  }

  async function rowCount(url: string, where = 'true'): Promise<number> {
    const sql = postgres(url, { onnotice: () => {}, max: 1 });
    try {
      const [row] = await sql.unsafe(
        `select count(distinct event_id)::int as n from audit_logs where ${where}`,
      );
      return (row as unknown as { n: number }).n;
    } finally {
      await sql.end();
    }
  }

  /** A small tmpfs: the disk that fills up. */
  function smallDisk(size: string): string {
    const dir = scratchDir('aitrail-tmpfs-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
    mounts.push(dir);
    return dir;
  }

  function fillDisk(dir: string, leaveBytes: number): string {
    const filler = join(dir, 'filler');
    const free = Number(
      execFileSync('df', ['-B1', '--output=avail', dir]).toString().split('\n')[1],
    );
    writeFileSync(filler, Buffer.alloc(Math.max(0, free - leaveBytes)));
    return filler;
  }

  /** Starts the fixture app (optionally under `prefix`, e.g. `unshare`); resolves its stats line. */
  function startFixture(
    env: NodeJS.ProcessEnv,
    prefix: string[] = [],
  ): { child: ChildProcess; stats: Promise<Stats>; output: () => string } {
    const command = [...prefix, process.execPath, compiledEntry('tests/fixtures/emit-events.ts')];
    const child = spawn(command[0] as string, command.slice(1), {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.on('exit', () => children.delete(child));
    let out = '';
    let err = '';
    child.stderr?.on('data', (chunk) => {
      err += chunk;
    });
    const stats = new Promise<Stats>((resolve, reject) => {
      child.stdout?.on('data', (chunk) => {
        out += chunk;
        const line = out.split('\n').find((l) => l.startsWith('stats '));
        if (line) resolve(JSON.parse(line.slice(6)));
      });
      child.on('exit', (code) => reject(new Error(`fixture exited early with ${code}: ${err}`)));
    });
    return { child, stats, output: () => out + err };
  }

  async function runFixture(env: NodeJS.ProcessEnv, prefix: string[] = []) {
    const fixture = startFixture(env, prefix);
    const exited = new Promise<number | null>((r) => fixture.child.on('exit', (code) => r(code)));
    const stats = await fixture.stats;
    const code = await exited;
    return { stats, code, output: fixture.output() };
  }

  async function killed(child: ChildProcess): Promise<void> {
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async function waitFor(
    condition: () => boolean,
    describe: () => string = () => '',
    timeoutMs = 30_000,
  ): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${condition}: ${describe()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Runs `fn` while the cluster is down; starts it again whatever happens. */
  async function duringOutage<T>(fn: () => Promise<T>): Promise<T> {
    await cluster.stopCluster('immediate');
    try {
      return await fn();
    } finally {
      await cluster.startCluster();
    }
  }

  function chainFolders(dataDir: string): string[] {
    const root = join(dataDir, 'journal');
    if (!existsSync(root)) return [];
    return readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((store) =>
        readdirSync(join(root, store.name), { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((chain) => join(root, store.name, chain.name)),
      );
  }

  it('a disk that fills: records counted as journaled are exactly the records a restart stores, memory stays within its hard limit', async () => {
    const url = await freshDatabase();
    const disk = smallDisk('2m');
    const filler = fillDisk(disk, 600_000);
    const maxQueue = 500;
    const first = await duringOutage(async () => {
      const fixture = startFixture({
        DATABASE_URL: url,
        AITRAIL_DATA_DIR: disk,
        EMIT_COUNT: '5000',
        EMIT_MAX_QUEUE: String(maxQueue),
        EMIT_BATCH_SIZE: '100',
        EMIT_MODE: 'hold',
      });
      const stats = await fixture.stats;
      await killed(fixture.child);
      return { stats, output: fixture.output() };
    });
    const { stats } = first;
    console.log(
      `disk full: journaled ${stats.journaled}, held ${stats.queueDepth}, dropped ${stats.dropped}, journal failures ${stats.journalFailures}`,
    );
    expect(stats.journalFailures).toBeGreaterThan(0);
    expect(stats.journaled).toBeGreaterThan(0);
    expect(stats.journaled).toBeLessThan(5000);
    expect(stats.queueDepth).toBeLessThanOrEqual(maxQueue * 2);
    expect(stats.journaled + stats.queueDepth + stats.dropped).toBe(stats.received);
    expect(first.output).toMatch(/DROPPED \d+ audit record/);
    expect(first.output).toMatch(/journal write failed/);

    unlinkSync(filler);
    const second = await runFixture({ DATABASE_URL: url, AITRAIL_DATA_DIR: disk, EMIT_COUNT: '0' });
    expect(second.code).toBe(0);
    expect(second.stats.replayed).toBe(stats.journaled);
    expect(second.stats.corruptJournalLines).toBe(0);
    expect(await rowCount(url)).toBe(stats.journaled);
  }, 120_000);

  it('the journal resumes once the disk has room again, and every record arrives', async () => {
    const url = await freshDatabase();
    const store = await openAuditStore({ databaseUrl: url });
    const disk = smallDisk('2m');
    const filler = fillDisk(disk, 150_000);
    const messages: string[] = [];
    const logger = {
      warn: (m: string) => messages.push(m),
      error: (m: string) => messages.push(m),
    };
    const maxQueue = 200;
    const writer = new AuditWriter({
      store,
      logger,
      batchSize: 50,
      maxQueueRecords: maxQueue,
      journalDir: join(disk, 'journal'),
    });
    let peak = 0;
    let index = 0;
    const emit = async (count: number) => {
      for (let i = 0; i < count; i++) {
        writer.enqueue(makeRecord(index++));
        peak = Math.max(peak, writer.stats().queueDepth);
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
      }
    };
    await duringOutage(async () => {
      await new Promise((r) => setTimeout(r, 300));
      await emit(2000);
      const full = writer.stats();
      expect(full.journalFailures).toBeGreaterThan(0);
      unlinkSync(filler);
      await new Promise((r) => setTimeout(r, 300));
      await emit(1000);
      expect(writer.stats().journaled).toBeGreaterThan(full.journaled);
      expect(messages).toContain('the journal accepts writes again');
    });
    await writer.shutdown({ deadlineMs: 30_000 });
    await store.close();
    const stats = writer.stats();
    expect(peak).toBeLessThanOrEqual(maxQueue * 2);
    expect(stats.received).toBe(3000);
    expect(stats.written).toBe(3000 - stats.dropped);
    expect(await rowCount(url)).toBe(3000 - stats.dropped);
  }, 120_000);

  it('batches held in memory while the disk was full are journaled before later groups: SIGKILL after the disk recovers leaves no gap in the chain', async () => {
    const url = await freshDatabase();
    // Room for the whole burst once the filler goes, none before.
    const disk = smallDisk('8m');
    const filler = fillDisk(disk, 0);
    const journalRoot = join(disk, 'journal');
    const journaledBytes = () => {
      let bytes = 0;
      for (const folder of chainFolders(disk))
        for (const file of readdirSync(folder).filter((f) => f.endsWith('.jnl')))
          bytes += statSync(join(folder, file)).size;
      return bytes;
    };
    const first = await duringOutage(async () => {
      const fixture = startFixture({
        DATABASE_URL: url,
        AITRAIL_DATA_DIR: disk,
        AITRAIL_DURABILITY: 'journal-first',
        EMIT_COUNT: '3000',
        EMIT_BATCH_SIZE: '200',
        EMIT_MODE: 'hold',
      });
      await fixture.stats;
      // Inserts fail (the database is down) while appends fail (the disk is full): the batches
      // sealed for those inserts are held in memory, the rest waits unsealed.
      await waitFor(() => /writing \d+ audit record\(s\) failed/.test(fixture.output()));
      expect(fixture.output()).toMatch(/journal write failed/);
      expect(journaledBytes()).toBe(0);
      unlinkSync(filler);
      // The journal takes the next group commit; then the process dies.
      await waitFor(
        () => /the journal accepts writes again/.test(fixture.output()),
        fixture.output,
      );
      await waitFor(() => journaledBytes() > 0);
      await new Promise((r) => setTimeout(r, 300));
      await killed(fixture.child);
      return fixture.output();
    });
    expect(existsSync(journalRoot)).toBe(true);
    const second = await runFixture({ DATABASE_URL: url, AITRAIL_DATA_DIR: disk, EMIT_COUNT: '0' });
    expect(second.code).toBe(0);
    expect(second.stats.replayed).toBeGreaterThan(0);
    const sql = postgres(url, { onnotice: () => {}, max: 1 });
    try {
      const chains = await sql<{ chain_id: string; first: number; last: number; n: number }[]>`
        select chain_id, min(chain_seq)::int as first, max(chain_seq)::int as last,
          count(*)::int as n
        from audit_logs where action = 'fixture.event' group by chain_id`;
      expect(chains.length, first).toBe(1);
      // Every record the journal held replays, and so does every record sealed before it.
      expect(chains[0]).toMatchObject({ first: 1, n: chains[0]?.last });
      expect(chains[0]?.n).toBe(3000);
    } finally {
      await sql.end();
    }
  }, 120_000);

  it('an app restarted as PID 1 in a new PID namespace takes over and replays its previous life’s journal', async () => {
    const url = await freshDatabase();
    const dataDir = scratchDir();
    const env = { DATABASE_URL: url, AITRAIL_DATA_DIR: dataDir, AITRAIL_JOURNAL_STALE_MS: '1000' };
    const pid1 = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL'];
    const journaled = await duringOutage(async () => {
      const fixture = startFixture(
        { ...env, EMIT_COUNT: '5000', EMIT_MODE: 'flush-and-hold' },
        pid1,
      );
      const stats = await fixture.stats;
      await killed(fixture.child);
      return stats.journaled;
    });
    expect(journaled).toBe(5000);
    const [folder] = chainFolders(dataDir);
    expect(JSON.parse(readFileSync(join(folder as string, 'owner.json'), 'utf8')).pid).toBe(1);
    // The dead owner's heartbeat must age past AITRAIL_JOURNAL_STALE_MS first.
    await new Promise((r) => setTimeout(r, 1_500));
    const second = await runFixture({ ...env, EMIT_COUNT: '0' }, pid1);
    expect(second.code).toBe(0);
    expect(second.stats.replayed).toBe(5000);
    expect(await rowCount(url)).toBe(5000);
  }, 120_000);

  it.each([
    ['missing', null],
    ['garbage', '{"pid": "one'],
    ['naming a live pid that started at another time (pid reuse)', 'reuse'],
  ])(
    'a dead writer’s journal whose owner.json is %s is replayed',
    async (_name, owner) => {
      const url = await freshDatabase();
      const dataDir = scratchDir();
      const env = { DATABASE_URL: url, AITRAIL_DATA_DIR: dataDir };
      await duringOutage(async () => {
        const fixture = startFixture({ ...env, EMIT_COUNT: '1000', EMIT_MODE: 'flush-and-hold' });
        expect((await fixture.stats).journaled).toBe(1000);
        await killed(fixture.child);
      });
      const ownerFile = join(chainFolders(dataDir)[0] as string, 'owner.json');
      if (owner === null) unlinkSync(ownerFile);
      else if (owner === 'reuse') {
        const stored = JSON.parse(readFileSync(ownerFile, 'utf8'));
        // This test process is alive: only its start time tells it is not the dead writer.
        expect(processStartTime(process.pid)).not.toBeNull();
        writeFileSync(ownerFile, JSON.stringify({ ...stored, pid: process.pid }));
      } else writeFileSync(ownerFile, owner);
      const second = await runFixture({ ...env, EMIT_COUNT: '0' });
      expect(second.code).toBe(0);
      expect(second.stats.replayed).toBe(1000);
      expect(await rowCount(url)).toBe(1000);
    },
    120_000,
  );

  it('a live writer’s journal in the same directory is left to it', async () => {
    const url = await freshDatabase();
    const store = await openAuditStore({ databaseUrl: url });
    const journalDir = scratchDir();
    const quiet = { warn() {}, error() {} };
    const a = new AuditWriter({ store, journalDir, logger: quiet });
    await cluster.stopCluster('immediate');
    let b: AuditWriter | undefined;
    try {
      for (let i = 0; i < 100; i++) a.enqueue(makeRecord(i));
      await a.flush();
      expect(a.stats().journaled).toBe(100);
      b = new AuditWriter({ store, journalDir, logger: quiet });
    } finally {
      await cluster.startCluster();
    }
    await b?.shutdown({ deadlineMs: 20_000 });
    expect(b?.stats().replayed).toBe(0);
    await a.shutdown({ deadlineMs: 20_000 });
    expect(a.stats()).toMatchObject({ written: 100, replayed: 100 });
    await store.close();
  }, 120_000);

  describe('a malformed line', () => {
    let store: AuditStore;
    let url: string;

    beforeAll(async () => {
      url = await freshDatabase();
      store = await openAuditStore({ databaseUrl: url });
    });

    afterAll(async () => {
      await store?.close();
    });

    it('with a valid checksum is quarantined to the dead-letter file with a log line; the rest of the segment replays', async () => {
      const journalDir = scratchDir();
      const root = storeJournalRoot(journalDir, store.location);
      const chain = new HashChain('dead-writer-chain');
      const sealed = Array.from({ length: 20 }, (_, i) =>
        chain.seal(makeRecord(i), JSON.stringify(makeRecord(i).metadata)),
      );
      const lines = sealed.map(journalLine);
      // Valid checksums, wrong shapes: what crashed the host before (a TypeError in poison.ts).
      const malformed = [
        { eventId: 5 },
        null,
        [1, 2],
        { ...sealed[0], chainSeq: 'one', eventId: 'x:y' },
      ].map((value) => journalLine(value as never).trimEnd());
      lines.splice(7, 0, `${malformed[0]}\n`, `${malformed[1]}\n`);
      lines.splice(15, 0, `${malformed[2]}\n`, `${malformed[3]}\n`);
      const folder = join(root, 'dead-writer-chain');
      execFileSync('mkdir', ['-p', folder]);
      writeFileSync(join(folder, '000000000000001-000001.jnl'), lines.join(''));
      const messages: string[] = [];
      const writer = new AuditWriter({
        store,
        journalDir,
        logger: { warn: (m) => messages.push(m), error: (m) => messages.push(m) },
      });
      await writer.shutdown({ deadlineMs: 20_000 });
      expect(writer.stats()).toMatchObject({
        replayed: 20,
        written: 20,
        quarantinedJournalLines: 4,
        corruptJournalLines: 4,
        dropped: 0,
      });
      expect(messages.some((m) => /4 malformed line\(s\).*dead-letter/.test(m))).toBe(true);
      const deadLetter = readFileSync(join(journalDir, 'dead-letter.jnl'), 'utf8');
      for (const line of malformed) expect(deadLetter).toContain(line);
      expect(await rowCount(url, `chain_id = 'dead-writer-chain'`)).toBe(20);
      expect(existsSync(folder)).toBe(false);
    });
  });

  it('a journal written for database A is not replayed into database B, and is reported there', async () => {
    const urlA = await freshDatabase();
    const urlB = await freshDatabase();
    const dataDir = scratchDir();
    await duringOutage(async () => {
      const fixture = startFixture({
        DATABASE_URL: urlA,
        AITRAIL_DATA_DIR: dataDir,
        EMIT_COUNT: '2000',
        EMIT_LABEL: 'for_db_a',
        EMIT_MODE: 'flush-and-hold',
      });
      expect((await fixture.stats).journaled).toBe(2000);
      await killed(fixture.child);
    });
    const inB = await runFixture({
      DATABASE_URL: urlB,
      AITRAIL_DATA_DIR: dataDir,
      EMIT_COUNT: '0',
    });
    expect(inB.code).toBe(0);
    expect(inB.stats).toMatchObject({ replayed: 0, foreignJournals: 1 });
    expect(inB.output).toMatch(/was written for .*journal_\d+.*left alone/);
    expect(await rowCount(urlB)).toBe(0);
    const inA = await runFixture({
      DATABASE_URL: urlA,
      AITRAIL_DATA_DIR: dataDir,
      EMIT_COUNT: '0',
    });
    expect(inA.stats.replayed).toBe(2000);
    expect(await rowCount(urlA)).toBe(2000);
  }, 120_000);

  it('a journal bound to a database is not replayed into another database at the same URL', async () => {
    const name = `journal_same_url_${++dbCounter}`;
    const url = await freshDatabase(name);
    const dataDir = scratchDir();
    const env = { DATABASE_URL: url, AITRAIL_DATA_DIR: dataDir };
    await (await openAuditStore({ databaseUrl: url })).close();
    // Inserts wait behind this lock, so what spills stays in the journal until the kill. EXCLUSIVE,
    // not ACCESS EXCLUSIVE: it blocks every write but still lets reads through, and the fixture's
    // start reads the catalog (the protection check at migrate takes ACCESS SHARE on audit_logs
    // through pg_partition_tree) before its first record.
    const locker = postgres(url, { onnotice: () => {}, max: 1 });
    let release = () => {};
    const holding = locker
      .begin(async (tx) => {
        await tx`lock table audit_logs in exclusive mode`;
        await new Promise<void>((r) => {
          release = r;
        });
      })
      .catch(() => {});
    await new Promise((r) => setTimeout(r, 200));
    // The database answers first (the journal is bound to it), then memory spills.
    const fixture = startFixture({
      ...env,
      EMIT_COUNT: '1000',
      EMIT_MAX_QUEUE: '100',
      EMIT_BATCH_SIZE: '100000',
      EMIT_FLUSH_INTERVAL_MS: '600000',
      EMIT_START_DELAY_MS: '200',
      EMIT_WAIT_JOURNAL_BOUND: '1',
      EMIT_MODE: 'hold',
    });
    const first = await fixture.stats;
    // What the processor still holds at the stats line has not reached the writer yet.
    expect(first.journaled).toBeGreaterThan(first.received - 101);
    await killed(fixture.child);
    // The lock kept every insert out (reads pass it): all of it is in the journal alone.
    expect(await rowCount(url)).toBe(0);
    release();
    await holding;
    await locker.end();
    const header = JSON.parse(
      readFileSync(join(chainFolders(dataDir)[0] as string, 'chain.json'), 'utf8'),
    );
    expect(header.database).toMatchObject({ database: name });
    // Another database under the same name: same URL, another identity.
    await admin.unsafe(`drop database ${name} with (force)`);
    await admin.unsafe(`create database ${name}`);
    const second = await runFixture({ ...env, EMIT_COUNT: '0' });
    expect(second.code).toBe(0);
    expect(second.stats).toMatchObject({ replayed: 0, foreignJournals: 1 });
    expect(await rowCount(url)).toBe(0);
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  it.each([
    ['down', 'journal-first'],
    ['slowed to 50 ms a statement', 'journal-first'],
  ])(
    'SIGKILL right after a burst of 20,000 records, database %s: only the last group commit is lost (%s)',
    async (state, durability) => {
      const url = await freshDatabase();
      await (await openAuditStore({ databaseUrl: url })).close();
      if (state !== 'down') {
        await admin.unsafe(`select 1`);
        const sql = postgres(url, { onnotice: () => {}, max: 1 });
        await sql
          .unsafe(`
          create function slow_down() returns trigger language plpgsql as $$
          begin perform pg_sleep(0.05); return null; end $$;
          create trigger slow_inserts before insert on audit_logs
            for each statement execute function slow_down();`)
          .simple();
        await sql.end();
      }
      const dataDir = scratchDir();
      const env = { DATABASE_URL: url, AITRAIL_DATA_DIR: dataDir, AITRAIL_DURABILITY: durability };
      const burst = 20_000;
      const run = async () => {
        const fixture = startFixture({ ...env, EMIT_COUNT: String(burst), EMIT_MODE: 'spin' });
        const stats = await fixture.stats;
        await killed(fixture.child);
        return stats;
      };
      const stats = state === 'down' ? await duringOutage(run) : await run();
      const second = await runFixture({
        ...env,
        EMIT_COUNT: '0',
        EMIT_SHUTDOWN_DEADLINE_MS: '60000',
      });
      expect(second.code).toBe(0);
      const stored = await rowCount(url);
      const lost = burst - stored;
      console.log(
        `SIGKILL after ${burst} (database ${state}, ${durability}): accepted ${stats.accepted}, stored after restart ${stored}, lost ${lost}`,
      );
      // Everything counted as accepted survived; what did not is at most one group commit
      // (groupCommitRecords, 1000) plus the spans the processor maps per turn (512).
      expect(stored).toBeGreaterThanOrEqual(stats.accepted as number);
      expect(lost).toBeLessThanOrEqual(1000 + 512);
    },
    240_000,
  );

  it('the building-block processor given only a store journals by default: an outage loses nothing', async () => {
    const url = await freshDatabase();
    const store = await openAuditStore({ databaseUrl: url });
    const dataDir = scratchDir();
    const previous = process.env.AITRAIL_DATA_DIR;
    process.env.AITRAIL_DATA_DIR = dataDir;
    const quiet = { warn() {}, error() {} };
    try {
      const first = new AuditSpanProcessor({ store, logger: quiet });
      await duringOutage(async () => {
        for (let i = 0; i < 100; i++) first.writer.enqueue(makeRecord(i));
        await first.shutdown();
        expect(first.stats()).toMatchObject({
          received: 100,
          journaled: 100,
          dropped: 0,
          written: 0,
        });
      });
      const second = new AuditSpanProcessor({ store, logger: quiet });
      await second.shutdown();
      expect(second.stats()).toMatchObject({ replayed: 100, written: 100 });
      expect(await rowCount(url)).toBe(100);
    } finally {
      if (previous === undefined) delete process.env.AITRAIL_DATA_DIR;
      else process.env.AITRAIL_DATA_DIR = previous;
      await store.close();
    }
  }, 120_000);
});
