/**
 * Verify: rows per second of `verifyAuditChains` over the generated table and its peak RSS, each
 * in a child process beside a baseline child that loads the same code, opens the store and counts
 * the rows (the memory any process of this kind starts with). In full mode at two sizes (100,000
 * and 1,000,000 rows), so memory can be seen not to grow with rows. Then the incremental case: a
 * copy of the table gets new rows, and verify given the heads an earlier run verified is timed
 * beside a full verify of the same table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { openAuditStore } from '../src/store/open-store.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { runChild } from './child.js';
import { DATASET_WRITERS, type Dataset, generateDataset } from './dataset.js';
import { datasetRecord, seededRandom } from './fixtures.js';
import type { BenchPostgres } from './postgres.js';
import { type Figure, figure, ratioTo } from './stats.js';
import type { VerifyChildResult } from './verify-child.js';

export interface VerifyOptions {
  runs: number;
  dataset: Dataset;
  postgres: BenchPostgres;
  log: (line: string) => void;
  /** Full mode: a second, smaller table verified the same way (rows/s and memory at two sizes). */
  smallerRows: number | null;
  /** Rows added before the incremental case. */
  newRows: number;
}

const GROUP = 'verify';
const MIB = 1024 * 1024;
const TARGET_RATE = 200_000;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;
/** Peak RSS at the large table over the small one: "flat". */
const FLAT_RSS = 1.1;

export async function benchVerify(options: VerifyOptions): Promise<Figure[]> {
  const { dataset } = options;
  const figures: Figure[] = [];
  let smaller: Figure[] = [];
  if (options.smallerRows !== null && options.smallerRows < dataset.rows) {
    options.log(`  ${options.smallerRows.toLocaleString('en-US')}-row table for the smaller size`);
    const small = await generateDataset(options.postgres, options.smallerRows);
    try {
      smaller = await fullVerify(options, small, '.100k');
    } finally {
      await small.database.drop();
    }
  }
  const main = await fullVerify(options, dataset, '', smaller);
  figures.push(...main, ...smaller);
  figures.push(...(await incrementalVerify(options)));
  return figures;
}

/** Full verify of `table` in child processes, beside baseline children. */
async function fullVerify(
  options: VerifyOptions,
  table: Dataset,
  suffix: string,
  smaller: Figure[] = [],
): Promise<Figure[]> {
  const timeoutMs = Math.max(120_000, table.rows * 0.5);
  const rowsPerSecond: number[] = [];
  const verifyRss: number[] = [];
  const baselineRss: number[] = [];
  const cpuPerRow: number[] = [];
  const problems: string[] = [];
  const threads = new Set<number>();
  for (let run = 0; run < options.runs; run++) {
    const base = await runChild<VerifyChildResult>(
      'verify-child.ts',
      ['baseline', table.database.url],
      { timeoutMs },
    );
    const result = await runChild<VerifyChildResult>(
      'verify-child.ts',
      ['verify', table.database.url],
      { timeoutMs },
    );
    if (!result.ok) problems.push(`run ${run + 1}: the chains did not verify`);
    if (result.rows !== table.rows)
      problems.push(`run ${run + 1}: checked ${result.rows} of ${table.rows} rows`);
    threads.add(result.threads);
    rowsPerSecond.push(result.rows / result.seconds);
    cpuPerRow.push((result.cpuSeconds * 1e6) / result.rows);
    verifyRss.push(result.peakRssBytes / MIB);
    baselineRss.push(base.peakRssBytes / MIB);
    options.log(
      `  ${table.rows.toLocaleString('en-US')} rows, run ${run + 1}: ${Math.round(result.rows / result.seconds)} rows/s on ${result.threads} walk thread(s), CPU ${((result.cpuSeconds * 1e6) / result.rows).toFixed(2)} µs a row, peak RSS ${(result.peakRssBytes / MIB).toFixed(0)} MiB (baseline ${(base.peakRssBytes / MIB).toFixed(0)} MiB)`,
    );
  }
  const rows = table.rows.toLocaleString('en-US');
  const atMillion = table.rows >= 1_000_000;
  const baseline = figure({
    group: GROUP,
    id: `v.rss.base${suffix}`,
    label: `baseline child: same modules, store opened, COUNT(*) over ${rows} rows: peak RSS`,
    unit: 'MiB',
    samples: baselineRss,
  });
  const rate = figure({
    group: GROUP,
    id: `v.rate${suffix}`,
    label: `verifyAuditChains over ${rows} rows, ${table.chains} chains (child process)`,
    unit: 'rows/s',
    samples: rowsPerSecond,
    note: [
      `rows read and checked on ${[...threads].join(' or ')} walk thread(s) (0: on the verifying thread)`,
      `verifying process CPU (every thread) ${median(cpuPerRow).toFixed(2)} µs a row`,
      ...problems,
    ].join('; '),
  });
  if (atMillion) {
    rate.target = {
      text: `≥ ${TARGET_RATE.toLocaleString('en-US')} rows/s`,
      met: rate.median >= TARGET_RATE,
    };
  }
  const smallRss = smaller.find((f) => f.id === 'v.rss.100k');
  const rss = figure({
    group: GROUP,
    id: `v.rss${suffix}`,
    label: `verifyAuditChains over ${rows} rows: peak RSS of the child`,
    unit: 'MiB',
    samples: verifyRss,
    baseline: smallRss ? [baseline, smallRss] : baseline,
  });
  if (smallRss) {
    const growth = ratioTo(rss, smallRss.id);
    rss.target = { text: `≤ ${FLAT_RSS}× v.rss.100k (flat)`, met: growth <= FLAT_RSS };
  }
  return [rate, rss, baseline];
}

/**
 * A copy of the table is verified once (its heads saved), gets `newRows` rows from four new
 * writers, then is verified from the saved heads and in full, run by run.
 */
async function incrementalVerify(options: VerifyOptions): Promise<Figure[]> {
  const { dataset, newRows } = options;
  const copy = await copyDatabase(options.postgres, dataset.database.url);
  const stateDir = mkdtempSync(join(tmpdir(), 'aitrail-bench-state-'));
  const state = join(stateDir, 'verified.json');
  const timeoutMs = Math.max(120_000, dataset.rows * 0.5);
  try {
    const first = await runChild<VerifyChildResult>(
      'verify-child.ts',
      ['verify', copy.url, '--state-out', state],
      {
        timeoutMs,
      },
    );
    if (!first.ok) throw new Error('the copied table does not verify');
    await appendRows(copy.url, newRows);
    const incremental: number[] = [];
    const full: number[] = [];
    const rowsRead = new Set<number>();
    const problems: string[] = [];
    for (let run = 0; run < options.runs; run++) {
      const resumed = await runChild<VerifyChildResult>(
        'verify-child.ts',
        ['incremental', copy.url, '--state', state],
        { timeoutMs },
      );
      const whole = await runChild<VerifyChildResult>('verify-child.ts', ['verify', copy.url], {
        timeoutMs,
      });
      if (!resumed.ok || !whole.ok) problems.push(`run ${run + 1}: did not verify`);
      rowsRead.add(resumed.rows);
      incremental.push(resumed.seconds * 1000);
      full.push(whole.seconds * 1000);
      options.log(
        `  incremental, run ${run + 1}: ${newRows.toLocaleString('en-US')} new rows verified in ${(resumed.seconds * 1000).toFixed(0)} ms (${resumed.rows} rows read), the whole table in ${(whole.seconds * 1000).toFixed(0)} ms`,
      );
    }
    const total = (dataset.rows + newRows).toLocaleString('en-US');
    const baseline = figure({
      group: GROUP,
      id: 'v.incr.full',
      label: `verifyAuditChains over the whole ${total}-row table (no verified heads)`,
      unit: 'ms',
      samples: full,
    });
    const resumed = figure({
      group: GROUP,
      id: 'v.incr',
      label: `verifyAuditChains given the heads an earlier run verified, after ${newRows.toLocaleString('en-US')} new rows (${DATASET_WRITERS} new chains)`,
      unit: 'ms',
      samples: incremental,
      baseline,
      note: [`rows read: ${[...rowsRead].join(', ')}`, ...problems].join('; '),
      target: {
        text: 'reads the new rows only',
        met: rowsRead.size === 1 && rowsRead.has(newRows),
      },
    });
    return [resumed, baseline];
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
    await copy.drop();
  }
}

/** `CREATE DATABASE … TEMPLATE`: a file copy of the table, so the other benchmarks' table stays as it was. */
async function copyDatabase(
  server: BenchPostgres,
  sourceUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const source = new URL(sourceUrl).pathname.slice(1);
  const name = `${source.slice(0, 40)}_incr`;
  const admin = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE "${name}" TEMPLATE "${source}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(sourceUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const sql = postgres(server.adminUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}

/** `rows` more records through four new writers (four new chains), as the table was made. */
async function appendRows(url: string, rows: number): Promise<void> {
  const stores = await Promise.all(
    Array.from({ length: DATASET_WRITERS }, () =>
      openAuditStore({ databaseUrl: url, migrate: false }),
    ),
  );
  const writers = stores.map(
    (store, i) =>
      new AuditWriter({ store, serviceName: `support-assistant-new-${i}`, journalDir: null }),
  );
  const random = seededRandom(7);
  const now = Date.now();
  try {
    for (let i = 0; i < rows; i++)
      (writers[i % DATASET_WRITERS] as AuditWriter).enqueue(datasetRecord(random, now));
    await Promise.all(writers.map((w) => w.shutdown({ deadlineMs: 600_000 })));
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
}
