/**
 * Ingest: audit records per second from the public API to committed rows, beside the same rows
 * written by raw COPY and by one autocommit INSERT per record. Every measurement gets a fresh,
 * migrated database and starts after a CHECKPOINT, so no run pays for the previous run's writes.
 *
 * Two loads (see `ingest-load.ts`). `i.app` is the way an application uses the API: awaited
 * `traceToolCall` calls one after another, then `flush()`; the event loop does not turn until the
 * calls are done, so delivery overlaps the calls only where it does not need the main thread's
 * event loop. `i.api` (paced) turns the event loop every 64 calls and holds the writer's queue
 * under 10,000 records: the figure this benchmark reported first, kept to show the difference.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import postgres from 'postgres';
import { AUDIT_LOG_COLUMNS, VAULT_COLUMNS } from '../src/store/insert-sql.js';
import { initAuditTelemetry } from '../src/telemetry/init.js';
import { emitToolCalls, type IngestLoad } from './ingest-load.js';
import type { BenchDatabase, BenchPostgres } from './postgres.js';
import { collectGarbage, cpuMicros } from './runtime.js';
import { type Figure, figure, ratioTo } from './stats.js';

/** What the ingest figures measure and why two loads, for docs/performance.md (`bench/report.ts`). */
export const INGEST_ABOUT: readonly string[] = [
  '`i.app` is what an application does: inside one `withAuditContext`, `await traceToolCall(...)`',
  'one call after another, then `flush()`. Awaiting a helper whose function returns at once runs',
  'only microtasks, so the event loop does not turn until the calls are done. `i.api` (paced) turns',
  'the event loop every 64 calls and keeps fewer than 10,000 records queued. A writer on the',
  'calling thread delivers only when the loop turns: under the paced load its COPY overlaps the',
  'calls; under the app load it starts when the calls are done, and the group commits write and',
  "fsync on the calls' turn. That is why this benchmark's paced figure once read three times what",
  'an application saw (0.74× against 0.25–0.28× raw COPY). With the writer on its own thread',
  '(`i.app`; the default for Postgres on two or more CPUs) sealing, journal fsyncs and COPY run',
  'while the calls go on; `i.app.inline` is the same load with the writer on the calling thread.',
  '',
  'Baselines: `i.copy` is raw COPY of the rows the app load wrote, 1,000 rows per COPY (a commit as',
  'often as the writer commits); `i.copy.one` the same rows in one COPY, as `psql \\copy` sends a',
  "file; `i.copy.vault` adds each row's vault row (`audit_personal_data`), which the writer also",
  'commits for every record: the database-side floor of this workload. CPU figures are the whole',
  "process (all threads, `process.cpuUsage()`), not the Postgres server's. `npx tsx",
  'bench/profile-ingest.ts` profiles the `i.app` run per thread and lists where the CPU goes.',
  '',
  'What limits `i.app` (`npx tsx bench/profile-ingest.ts`, 50,000 records, load average under 1',
  'on the two cores; the profiler adds about a fifth): the writer thread, busy about 110 µs per',
  "record, against the application thread's 50 µs of work (plus 43 µs waiting for the thread's",
  'group commits). On the writer thread: the garbage collector 19 µs (31 before the thread got a',
  '96 MiB young generation and records kept one canonical string instead of an object tree), the',
  'held 1 KB params redacted with the same policy compiled there 14 µs, SHA-256 for the row, its',
  'leaf and the commitments 11 µs, the journal line (canonical metadata reused, checksum, write,',
  'fsync) about 10 µs, canonical JSON 8 µs, the rest parsing the hand-over, COPY text and the',
  "database round trips. The application's share: the SDK span, the processor's mapping and the",
  'hand-over to the writer thread (JSON, about 7 µs). On a machine whose other processes use the',
  'second core, the thread buys little: records cross as JSON and each thread collects its own',
  'garbage (`i.app.cpu` against `i.app.inline.cpu`). The database, on the same two cores, writes two',
  'rows per record (the chained row and its vault row): `i.copy.vault` against `i.copy` is its',
  'cost, so 0.8× `i.copy` is out of reach for a workload that commits both. CPU per record misses',
  '25 µs several times over: the redaction of the 1 KB params alone is about 14–24 µs, and the',
  "writer's own share is garbage, hashing and JSON rather than any one step.",
];

export interface IngestOptions {
  runs: number;
  /** Records per run of the paced load (`i.api`). */
  records: number;
  /** Records per run of the app load (`i.app`). */
  appRecords: number;
  /** Rows written by the naive path per run; its rate is extrapolated to `records`. */
  naiveSample: number;
  postgres: BenchPostgres;
  log: (line: string) => void;
}

const GROUP = 'ingest';
/** The writer's default batch size: the COPY baseline commits as often as the writer does. */
const COPY_BATCH = 1000;
const COLUMNS = AUDIT_LOG_COLUMNS.join(', ');
const VAULT = VAULT_COLUMNS.join(', ');
/** Targets of issue 17: records/s against raw COPY of the same rows, and CPU per record. */
const COPY_RATIO_TARGET = 0.8;
const CPU_TARGET_MICROS = 25;

interface ApiRun {
  seconds: number;
  /** Until the last call returned (the rest of `seconds` is `flush()`). */
  emitSeconds: number;
  cpuMicrosPerRecord: number;
  /** p99 of the event loop's delay while the run lasted: what a group commit's fsync costs callers. */
  loopDelayP99Ms: number;
  problem: string | null;
}

/** How the writer runs: durability mode (default journal-first) and thread (default auto). */
interface WriterMode {
  AITRAIL_DURABILITY?: 'journal-first' | 'memory-first';
  AITRAIL_WRITER_THREAD?: 'auto' | 'inline';
}

async function withSql<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function countRows(url: string): Promise<number> {
  return withSql(url, async (sql) => {
    const [row] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM audit_logs`;
    return Number(row?.n ?? 0);
  });
}

/** Flushes dirty buffers before a timed run; skipped where the role may not (no pg_checkpoint). */
async function checkpoint(adminUrl: string): Promise<void> {
  await withSql(adminUrl, (sql) => sql`CHECKPOINT`).catch(() => {});
}

async function throughApi(
  postgresServer: BenchPostgres,
  records: number,
  load: IngestLoad,
  mode: WriterMode = {},
): Promise<ApiRun & { database: BenchDatabase }> {
  const database = await postgresServer.freshDatabase(`ingest_${load}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'aitrail-bench-ingest-'));
  const previous = { ...process.env };
  const restore = () => {
    for (const key of ['AITRAIL_DURABILITY', 'AITRAIL_WRITER_THREAD'] as const) {
      if (previous[key] === undefined) delete process.env[key];
      else process.env[key] = previous[key];
    }
  };
  try {
    // The writer reads its durability mode and thread from the environment when it is built.
    Object.assign(process.env, mode);
    const telemetry = await initAuditTelemetry({
      databaseUrl: database.url,
      dataDir,
      serviceName: 'bench-ingest',
      migrate: false,
      handleSignals: false,
    });
    restore();
    await checkpoint(postgresServer.adminUrl);
    collectGarbage();
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const cpuStart = cpuMicros();
    const started = performance.now();
    await emitToolCalls(telemetry, records, load);
    const emitted = performance.now();
    await telemetry.flush();
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuMicros() - cpuStart;
    loopDelay.disable();
    const stats = telemetry.stats();
    await telemetry.shutdown();
    const stored = await countRows(database.url);
    const problems: string[] = [];
    if (stored !== records) problems.push(`COUNT(*) = ${stored}, expected ${records}`);
    // Journal-first journals every record by design; memory-first should not need to spill.
    if (mode.AITRAIL_DURABILITY === 'memory-first' && stats.journaled > 0)
      problems.push(`${stats.journaled} records spilled to the journal`);
    if (stats.accepted !== records) problems.push(`accepted ${stats.accepted} of ${records}`);
    if (stats.dropped > 0) problems.push(`${stats.dropped} records dropped`);
    return {
      database,
      seconds,
      emitSeconds: (emitted - started) / 1000,
      cpuMicrosPerRecord: cpu / records,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      problem: problems.length > 0 ? problems.join('; ') : null,
    };
  } finally {
    restore();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** One value in COPY's text format: `\N` for NULL, backslash escapes for the four specials. */
function copyField(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(/[\\\n\r\t]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t',
  );
}

function copyText(rows: ReadonlyArray<ReadonlyArray<string | null>>): string {
  let text = '';
  for (const row of rows) text += `${row.map(copyField).join('\t')}\n`;
  return text;
}

/** The same rows as COPY text: in batches of COPY_BATCH, or all in one (what `psql \copy` sends). */
interface CopyRows {
  rows: number;
  audit: string[];
  vault: string[];
  auditWhole: string;
}

/**
 * The rows the API wrote (the chained rows and their vault rows), read back as text (each column
 * through its type's output function, which is what COPY TO would print), as COPY text and as
 * values for the naive INSERT.
 */
async function exportRows(database: BenchDatabase, naiveSample: number) {
  return withSql(database.url, async (sql) => {
    const rows = (await sql
      .unsafe(
        `SELECT ${AUDIT_LOG_COLUMNS.map((c) => `${c}::text`).join(', ')}
         FROM audit_logs ORDER BY chain_seq`,
      )
      .values()) as unknown as Array<Array<string | null>>;
    const vaultRows = (await sql
      .unsafe(
        `SELECT ${VAULT_COLUMNS.map((c) => `v.${c}::text`).join(', ')}
         FROM audit_personal_data v JOIN audit_logs a ON a.id = v.row_id ORDER BY a.chain_seq`,
      )
      .values()) as unknown as Array<Array<string | null>>;
    const copy: CopyRows = { rows: rows.length, audit: [], vault: [], auditWhole: copyText(rows) };
    for (let i = 0; i < rows.length; i += COPY_BATCH) {
      copy.audit.push(copyText(rows.slice(i, i + COPY_BATCH)));
      copy.vault.push(copyText(vaultRows.slice(i, i + COPY_BATCH)));
    }
    const types = await sql<{ column_name: string; udt_name: string }[]>`
      SELECT column_name, udt_name FROM information_schema.columns WHERE table_name = 'audit_logs'`;
    const typeOf = new Map(types.map((t) => [t.column_name, t.udt_name]));
    const casts = AUDIT_LOG_COLUMNS.map((c, i) => `$${i + 1}::${typeOf.get(c) ?? 'text'}`);
    return {
      copy,
      vaultRows: vaultRows.length,
      insertSql: `INSERT INTO audit_logs (${COLUMNS}) VALUES (${casts.join(', ')})`,
      naiveRows: rows.slice(0, naiveSample),
    };
  });
}

/** What a raw COPY baseline writes: the chained rows, or each batch's vault rows then its chained rows. */
type CopyShape = 'batches' | 'one' | 'with-vault';

async function copyInto(sql: postgres.Sql, statement: string, text: string): Promise<void> {
  const stream = await sql.unsafe(statement).writable();
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.once('finish', resolve);
    stream.end(text);
  });
}

async function rawCopy(
  postgresServer: BenchPostgres,
  copy: CopyRows,
  shape: CopyShape,
): Promise<{ seconds: number; problem: string | null }> {
  const database = await postgresServer.freshDatabase('ingest_copy');
  try {
    await checkpoint(postgresServer.adminUrl);
    const auditSql = `COPY audit_logs (${COLUMNS}) FROM STDIN`;
    const vaultSql = `COPY audit_personal_data (${VAULT}) FROM STDIN`;
    const seconds = await withSql(database.url, async (sql) => {
      await sql`SELECT 1`;
      const started = performance.now();
      if (shape === 'one') await copyInto(sql, auditSql, copy.auditWhole);
      else {
        for (let i = 0; i < copy.audit.length; i++) {
          // The writer's order: the vault rows first, then the chained rows.
          if (shape === 'with-vault') await copyInto(sql, vaultSql, copy.vault[i] as string);
          await copyInto(sql, auditSql, copy.audit[i] as string);
        }
      }
      return (performance.now() - started) / 1000;
    });
    const stored = await countRows(database.url);
    return {
      seconds,
      problem: stored === copy.rows ? null : `COUNT(*) = ${stored}, expected ${copy.rows}`,
    };
  } finally {
    await database.drop();
  }
}

async function naiveInserts(
  postgresServer: BenchPostgres,
  insertSql: string,
  rows: ReadonlyArray<ReadonlyArray<string | null>>,
): Promise<{ seconds: number; problem: string | null }> {
  const database = await postgresServer.freshDatabase('ingest_naive');
  try {
    await checkpoint(postgresServer.adminUrl);
    const seconds = await withSql(database.url, async (sql) => {
      await sql`SELECT 1`;
      const started = performance.now();
      for (const row of rows) await sql.unsafe(insertSql, row as string[]);
      return (performance.now() - started) / 1000;
    });
    const stored = await countRows(database.url);
    return {
      seconds,
      problem: stored === rows.length ? null : `COUNT(*) = ${stored}, expected ${rows.length}`,
    };
  } finally {
    await database.drop();
  }
}

/** Samples of one API case, run by run. */
class ApiSamples {
  rate: number[] = [];
  cpu: number[] = [];
  loop: number[] = [];
  emitShare: number[] = [];

  add(records: number, run: ApiRun): void {
    this.rate.push(records / run.seconds);
    this.cpu.push(run.cpuMicrosPerRecord);
    this.loop.push(run.loopDelayP99Ms);
    this.emitShare.push(run.emitSeconds / run.seconds);
  }
}

const count = (n: number) => n.toLocaleString('en-US');
const percent = (share: number[]) =>
  `${Math.round((100 * share.reduce((a, b) => a + b, 0)) / Math.max(1, share.length))}%`;

export async function benchIngest(options: IngestOptions): Promise<Figure[]> {
  const { records, appRecords, postgres: server } = options;
  // Untimed first pass: warms the JIT and the server, and yields the rows the baselines write.
  // The COPY baselines write the app load's rows, so they are the same count as `i.app`.
  await (await throughApi(server, Math.min(records, 5_000), 'paced')).database.drop();
  const warm = await throughApi(server, appRecords, 'app');
  const exported = await exportRows(warm.database, options.naiveSample);
  await warm.database.drop();
  if (warm.problem) throw new Error(`ingest warm-up: ${warm.problem}`);
  if (exported.vaultRows !== exported.copy.rows)
    throw new Error(
      `ingest warm-up: ${exported.vaultRows} vault rows for ${exported.copy.rows} rows`,
    );

  const app = new ApiSamples();
  const appInline = new ApiSamples();
  const paced = new ApiSamples();
  const memoryFirst = new ApiSamples();
  const copy: number[] = [];
  const copyOne: number[] = [];
  const copyVault: number[] = [];
  const naive: number[] = [];
  const problems: string[] = [];
  const rows = exported.copy.rows;
  for (let run = 0; run < options.runs; run++) {
    const a = await throughApi(server, appRecords, 'app');
    await a.database.drop();
    app.add(appRecords, a);
    const ai = await throughApi(server, appRecords, 'app', { AITRAIL_WRITER_THREAD: 'inline' });
    await ai.database.drop();
    appInline.add(appRecords, ai);
    const p = await throughApi(server, records, 'paced');
    await p.database.drop();
    paced.add(records, p);
    const m = await throughApi(server, records, 'paced', { AITRAIL_DURABILITY: 'memory-first' });
    await m.database.drop();
    memoryFirst.add(records, m);
    const c = await rawCopy(server, exported.copy, 'batches');
    copy.push(rows / c.seconds);
    const o = await rawCopy(server, exported.copy, 'one');
    copyOne.push(rows / o.seconds);
    const v = await rawCopy(server, exported.copy, 'with-vault');
    copyVault.push(rows / v.seconds);
    const n = await naiveInserts(server, exported.insertSql, exported.naiveRows);
    naive.push(exported.naiveRows.length / n.seconds);
    const outcomes: Array<[string, string | null]> = [
      ['app', a.problem],
      ['app, inline writer', ai.problem],
      ['paced', p.problem],
      ['memory-first', m.problem],
      ['copy', c.problem],
      ['copy one', o.problem],
      ['copy with vault', v.problem],
      ['naive', n.problem],
    ];
    for (const [what, problem] of outcomes)
      if (problem) problems.push(`run ${run + 1} (${what}): ${problem}`);
    options.log(
      `  run ${run + 1}: app ${Math.round(appRecords / a.seconds)}/s (calls ${a.emitSeconds.toFixed(1)} s of ${a.seconds.toFixed(1)} s, ${Math.round(a.cpuMicrosPerRecord)} µs CPU/record; inline writer ${Math.round(appRecords / ai.seconds)}/s), paced ${Math.round(records / p.seconds)}/s (memory-first ${Math.round(records / m.seconds)}/s), copy ${Math.round(rows / c.seconds)}/s (one COPY ${Math.round(rows / o.seconds)}/s, with vault ${Math.round(rows / v.seconds)}/s), naive ${Math.round(exported.naiveRows.length / n.seconds)}/s`,
    );
  }
  const naiveFigure = figure({
    group: GROUP,
    id: 'i.naive',
    label: `one autocommit INSERT per record, awaited (sampled: ${count(exported.naiveRows.length)} rows per run, rate extrapolated)`,
    unit: 'rows/s',
    samples: naive,
  });
  // Raw COPY against the naive path too: how far the database itself is from the 10× target.
  const copyFigure = figure({
    group: GROUP,
    id: 'i.copy',
    label: `raw COPY FROM STDIN via postgres.js of the same ${count(rows)} audit_logs rows (pre-encoded), ${COPY_BATCH} rows per COPY: a commit as often as the writer commits`,
    unit: 'rows/s',
    samples: copy,
    baseline: naiveFigure,
  });
  const copyOneFigure = figure({
    group: GROUP,
    id: 'i.copy.one',
    label: 'the same rows in one COPY, as `psql \\copy` sends a file: one commit',
    unit: 'rows/s',
    samples: copyOne,
    baseline: copyFigure,
  });
  const copyVaultFigure = figure({
    group: GROUP,
    id: 'i.copy.vault',
    label: `(i.copy) plus each row's vault row (audit_personal_data), as the writer stores them: what the API commits`,
    unit: 'rows/s',
    samples: copyVault,
    baseline: copyFigure,
  });
  const appFigure = figure({
    group: GROUP,
    id: 'i.app',
    label: `public API the way an app calls it: in one withAuditContext, ${count(appRecords)} awaited traceToolCall (1 KB params) one after another, then flush(); journal-first, committed with fsync on (calls took ${percent(app.emitShare)} of the time)`,
    unit: 'records/s',
    samples: app.rate,
    baseline: [copyFigure, copyOneFigure, copyVaultFigure, naiveFigure],
    note: problems.length > 0 ? problems.join('; ') : undefined,
  });
  appFigure.target = {
    text: `≥ ${COPY_RATIO_TARGET}× i.copy and ≥ ${COPY_RATIO_TARGET}× i.copy.one`,
    met:
      ratioTo(appFigure, 'i.copy') >= COPY_RATIO_TARGET &&
      ratioTo(appFigure, 'i.copy.one') >= COPY_RATIO_TARGET,
  };
  const appInlineFigure = figure({
    group: GROUP,
    id: 'i.app.inline',
    label: `(i.app) with the writer on the calling thread (AITRAIL_WRITER_THREAD=inline): sealing, journal fsyncs and COPY share the producer's event loop (calls took ${percent(appInline.emitShare)} of the time)`,
    unit: 'records/s',
    samples: appInline.rate,
    baseline: [copyFigure, appFigure],
  });
  const appInlineCpuFigure = figure({
    group: GROUP,
    id: 'i.app.inline.cpu',
    label: '(i.app.inline): process CPU per record',
    unit: 'µs/record',
    samples: appInline.cpu,
  });
  const appCpuFigure = figure({
    group: GROUP,
    id: 'i.app.cpu',
    label:
      '(i.app): process CPU per record, all threads (helper, redaction, mapping, hashing, journal, COPY; Postgres server not included)',
    unit: 'µs/record',
    samples: app.cpu,
    baseline: appInlineCpuFigure,
  });
  appCpuFigure.target = {
    text: `≤ ${CPU_TARGET_MICROS} µs/record`,
    met: appCpuFigure.median <= CPU_TARGET_MICROS,
  };
  const memoryFirstFigure = figure({
    group: GROUP,
    id: 'i.api.memory-first',
    label:
      '(i.api) with durability memory-first: journaled only past the memory bound or during an outage',
    unit: 'records/s',
    samples: memoryFirst.rate,
    baseline: [copyFigure, naiveFigure],
  });
  const apiFigure = figure({
    group: GROUP,
    id: 'i.api',
    label: `public API, paced: traceToolCall (1 KB params) in requests of 64 with a turn of the event loop between them and at most 10,000 records queued, ${count(records)} records until flush(); journal-first (the first ingest figure; the app load is i.app)`,
    unit: 'records/s',
    samples: paced.rate,
    baseline: [copyFigure, naiveFigure, memoryFirstFigure, appFigure],
  });
  const cpuFigure = figure({
    group: GROUP,
    id: 'i.api.cpu',
    label: '(i.api): process CPU per record, all threads',
    unit: 'µs/record',
    samples: paced.cpu,
    baseline: appCpuFigure,
  });
  const memoryFirstCpuFigure = figure({
    group: GROUP,
    id: 'i.api.memory-first.cpu',
    label: '(i.api.memory-first): process CPU per record, all threads',
    unit: 'µs/record',
    samples: memoryFirst.cpu,
  });
  const loopFigure = figure({
    group: GROUP,
    id: 'i.api.loop-p99',
    label: '(i.api): p99 event-loop delay during the run (what the writer holds the loop for)',
    unit: 'ms',
    samples: paced.loop,
  });
  const memoryFirstLoopFigure = figure({
    group: GROUP,
    id: 'i.api.memory-first.loop-p99',
    label: '(i.api.memory-first): p99 event-loop delay during the run',
    unit: 'ms',
    samples: memoryFirst.loop,
  });
  return [
    appFigure,
    appCpuFigure,
    appInlineFigure,
    appInlineCpuFigure,
    copyFigure,
    copyOneFigure,
    copyVaultFigure,
    naiveFigure,
    apiFigure,
    cpuFigure,
    memoryFirstFigure,
    memoryFirstCpuFigure,
    loopFigure,
    memoryFirstLoopFigure,
  ];
}
