/**
 * Ingest: audit records per second from the public API to committed rows, beside the same rows
 * written by raw COPY and by one autocommit INSERT per record. Every measurement gets a fresh,
 * migrated database and starts after a CHECKPOINT, so no run pays for the previous run's writes.
 *
 * The API producer calls `traceToolCall` (1 KB params) in requests of CHUNK calls and, like a
 * service under steady load, never lets more than HIGH_WATER records wait in the writer's
 * memory: the figure is what the pipeline sustains, not how fast a queue fills.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import postgres from 'postgres';
import { withAuditContext } from '../src/instrument/audit-context.js';
import { traceToolCall } from '../src/instrument/tool-call.js';
import { AUDIT_LOG_COLUMNS } from '../src/store/insert-sql.js';
import { initAuditTelemetry } from '../src/telemetry/init.js';
import { seededRandom, toolParams } from './fixtures.js';
import type { BenchDatabase, BenchPostgres } from './postgres.js';
import { collectGarbage, cpuMicros, sleep, yieldToEventLoop } from './runtime.js';
import { type Figure, figure, ratioTo } from './stats.js';

export interface IngestOptions {
  runs: number;
  records: number;
  /** Rows written by the naive path per run; its rate is extrapolated to `records`. */
  naiveSample: number;
  postgres: BenchPostgres;
  log: (line: string) => void;
}

const GROUP = 'ingest';
const CHUNK = 64;
const HIGH_WATER = 10_000;
/** The writer's default batch size: the COPY baseline commits as often as the writer does. */
const COPY_BATCH = 1000;
const COLUMNS = AUDIT_LOG_COLUMNS.join(', ');

const PARAMS_POOL = (() => {
  const random = seededRandom(2);
  return Array.from({ length: 256 }, () => toolParams(random));
})();

interface ApiRun {
  seconds: number;
  cpuMicrosPerRecord: number;
  /** p99 of the event loop's delay while the run lasted: what a group commit's fsync costs callers. */
  loopDelayP99Ms: number;
  problem: string | null;
}

/** When records count as accepted: the write-ahead journal (default) or memory first. */
type Durability = 'journal-first' | 'memory-first';

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
  durability: Durability = 'journal-first',
): Promise<ApiRun & { database: BenchDatabase }> {
  const database = await postgresServer.freshDatabase('ingest_api');
  const dataDir = await mkdtemp(join(tmpdir(), 'aitrail-bench-ingest-'));
  const previous = process.env.AITRAIL_DURABILITY;
  try {
    // The writer reads its durability mode from the environment when it is built.
    process.env.AITRAIL_DURABILITY = durability;
    const telemetry = await initAuditTelemetry({
      databaseUrl: database.url,
      dataDir,
      serviceName: 'bench-ingest',
      migrate: false,
      handleSignals: false,
    });
    if (previous === undefined) delete process.env.AITRAIL_DURABILITY;
    else process.env.AITRAIL_DURABILITY = previous;
    await checkpoint(postgresServer.adminUrl);
    collectGarbage();
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const cpuStart = cpuMicros();
    const started = performance.now();
    for (let sent = 0; sent < records; sent += CHUNK) {
      const size = Math.min(CHUNK, records - sent);
      const conversationId = `conv-${Math.floor(sent / CHUNK)}`;
      await withAuditContext(
        { tenantId: 'tenant-7', actor: { type: 'user', id: `user-${sent % 997}` } },
        async () => {
          for (let i = 0; i < size; i++) {
            await traceToolCall(
              {
                toolName: 'search_orders',
                conversationId,
                agentName: 'support',
                params: PARAMS_POOL[(sent + i) % PARAMS_POOL.length],
              },
              () => 'ok',
            );
          }
        },
      );
      while (telemetry.stats().queueDepth > HIGH_WATER) await sleep(1);
      await yieldToEventLoop();
    }
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
    if (durability === 'memory-first' && stats.journaled > 0)
      problems.push(`${stats.journaled} records spilled to the journal`);
    if (stats.accepted !== records) problems.push(`accepted ${stats.accepted} of ${records}`);
    if (stats.dropped > 0) problems.push(`${stats.dropped} records dropped`);
    return {
      database,
      seconds,
      cpuMicrosPerRecord: cpu / records,
      loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      problem: problems.length > 0 ? problems.join('; ') : null,
    };
  } finally {
    if (previous === undefined) delete process.env.AITRAIL_DURABILITY;
    else process.env.AITRAIL_DURABILITY = previous;
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

/**
 * The rows the API wrote, read back as text (each column through its type's output function,
 * which is what COPY TO would print), as COPY text batches and as values for the naive INSERT.
 */
async function exportRows(database: BenchDatabase, naiveSample: number) {
  return withSql(database.url, async (sql) => {
    const rows = (await sql
      .unsafe(
        `SELECT ${AUDIT_LOG_COLUMNS.map((c) => `${c}::text`).join(', ')}
         FROM audit_logs ORDER BY chain_seq`,
      )
      .values()) as unknown as Array<Array<string | null>>;
    const batches: string[] = [];
    for (let i = 0; i < rows.length; i += COPY_BATCH) {
      let text = '';
      for (const row of rows.slice(i, i + COPY_BATCH)) text += `${row.map(copyField).join('\t')}\n`;
      batches.push(text);
    }
    const types = await sql<{ column_name: string; udt_name: string }[]>`
      SELECT column_name, udt_name FROM information_schema.columns WHERE table_name = 'audit_logs'`;
    const typeOf = new Map(types.map((t) => [t.column_name, t.udt_name]));
    const casts = AUDIT_LOG_COLUMNS.map((c, i) => `$${i + 1}::${typeOf.get(c) ?? 'text'}`);
    return {
      rows: rows.length,
      batches,
      insertSql: `INSERT INTO audit_logs (${COLUMNS}) VALUES (${casts.join(', ')})`,
      naiveRows: rows.slice(0, naiveSample),
    };
  });
}

async function rawCopy(
  postgresServer: BenchPostgres,
  batches: readonly string[],
  rows: number,
): Promise<{ seconds: number; problem: string | null }> {
  const database = await postgresServer.freshDatabase('ingest_copy');
  try {
    await checkpoint(postgresServer.adminUrl);
    const seconds = await withSql(database.url, async (sql) => {
      await sql`SELECT 1`;
      const started = performance.now();
      for (const batch of batches) {
        const stream = await sql.unsafe(`COPY audit_logs (${COLUMNS}) FROM STDIN`).writable();
        await new Promise<void>((resolve, reject) => {
          stream.once('error', reject);
          stream.once('finish', resolve);
          stream.end(batch);
        });
      }
      return (performance.now() - started) / 1000;
    });
    const stored = await countRows(database.url);
    return { seconds, problem: stored === rows ? null : `COUNT(*) = ${stored}, expected ${rows}` };
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

export async function benchIngest(options: IngestOptions): Promise<Figure[]> {
  const { records, postgres: server } = options;
  // Untimed first pass: warms the JIT and the server, and yields the rows the baselines write.
  const warm = await throughApi(server, records);
  const exported = await exportRows(warm.database, options.naiveSample);
  await warm.database.drop();
  if (warm.problem) throw new Error(`ingest warm-up: ${warm.problem}`);

  const api: number[] = [];
  const apiCpu: number[] = [];
  const apiLoop: number[] = [];
  const memoryFirst: number[] = [];
  const memoryFirstCpu: number[] = [];
  const memoryFirstLoop: number[] = [];
  const copy: number[] = [];
  const naive: number[] = [];
  const problems: string[] = [];
  for (let run = 0; run < options.runs; run++) {
    const a = await throughApi(server, records);
    await a.database.drop();
    api.push(records / a.seconds);
    apiCpu.push(a.cpuMicrosPerRecord);
    apiLoop.push(a.loopDelayP99Ms);
    const m = await throughApi(server, records, 'memory-first');
    await m.database.drop();
    memoryFirst.push(records / m.seconds);
    memoryFirstCpu.push(m.cpuMicrosPerRecord);
    memoryFirstLoop.push(m.loopDelayP99Ms);
    if (m.problem) problems.push(`run ${run + 1} (memory-first): ${m.problem}`);
    const c = await rawCopy(server, exported.batches, exported.rows);
    copy.push(exported.rows / c.seconds);
    const n = await naiveInserts(server, exported.insertSql, exported.naiveRows);
    naive.push(exported.naiveRows.length / n.seconds);
    for (const p of [a.problem, c.problem, n.problem]) if (p) problems.push(`run ${run + 1}: ${p}`);
    options.log(
      `  run ${run + 1}: api ${Math.round(records / a.seconds)}/s (memory-first ${Math.round(records / m.seconds)}/s), copy ${Math.round(exported.rows / c.seconds)}/s, naive ${Math.round(exported.naiveRows.length / n.seconds)}/s`,
    );
  }
  const naiveFigure = figure({
    group: GROUP,
    id: 'i.naive',
    label: `one autocommit INSERT per record, awaited (sampled: ${exported.naiveRows.length.toLocaleString('en-US')} rows per run, rate extrapolated)`,
    unit: 'rows/s',
    samples: naive,
  });
  // Raw COPY against the naive path too: how far the database itself is from the 10× target.
  const copyFigure = figure({
    group: GROUP,
    id: 'i.copy',
    label: `raw COPY FROM STDIN via postgres.js, same ${records.toLocaleString('en-US')} rows pre-encoded, ${COPY_BATCH} rows per COPY`,
    unit: 'rows/s',
    samples: copy,
    baseline: naiveFigure,
  });
  const memoryFirstFigure = figure({
    group: GROUP,
    id: 'i.api.memory-first',
    label:
      '(i.api) with durability memory-first: journaled only past the memory bound or during an outage',
    unit: 'records/s',
    samples: memoryFirst,
    baseline: [copyFigure, naiveFigure],
  });
  const apiFigure = figure({
    group: GROUP,
    id: 'i.api',
    label: `public API → committed rows: traceToolCall (1 KB params) → journal-first AuditWriter (group-committed fsynced journal, then COPY), ${records.toLocaleString('en-US')} records until flush()`,
    unit: 'records/s',
    samples: api,
    baseline: [copyFigure, naiveFigure, memoryFirstFigure],
    note: problems.length > 0 ? problems.join('; ') : undefined,
  });
  apiFigure.target = {
    text: '≥ 0.8× i.copy and ≥ 10× i.naive',
    met: ratioTo(apiFigure, 'i.copy') >= 0.8 && ratioTo(apiFigure, 'i.naive') >= 10,
  };
  const cpuFigure = figure({
    group: GROUP,
    id: 'i.api.cpu',
    label: '(i.api): this process’s CPU per record (helper, mapping, redaction, hashing, COPY)',
    unit: 'µs/record',
    samples: apiCpu,
  });
  const memoryFirstCpuFigure = figure({
    group: GROUP,
    id: 'i.api.memory-first.cpu',
    label: '(i.api.memory-first): this process’s CPU per record',
    unit: 'µs/record',
    samples: memoryFirstCpu,
  });
  const loopFigure = figure({
    group: GROUP,
    id: 'i.api.loop-p99',
    label:
      '(i.api): p99 event-loop delay during the run (group commits write and fsync on the loop)',
    unit: 'ms',
    samples: apiLoop,
  });
  const memoryFirstLoopFigure = figure({
    group: GROUP,
    id: 'i.api.memory-first.loop-p99',
    label: '(i.api.memory-first): p99 event-loop delay during the run',
    unit: 'ms',
    samples: memoryFirstLoop,
  });
  return [
    apiFigure,
    memoryFirstFigure,
    copyFigure,
    naiveFigure,
    cpuFigure,
    memoryFirstCpuFigure,
    loopFigure,
    memoryFirstLoopFigure,
  ];
}
