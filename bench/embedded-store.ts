/**
 * The embedded store (the default without DATABASE_URL) beside a Postgres-backed app: each run is
 * a child process living an app's life on the built package (embedded-store-child.ts:
 * initAuditTelemetry, 200 events, flush, two reads, shutdown), as a first run (a new data
 * directory; a new, empty database) and as a reopen (the same again). Figures: wall time from
 * initAuditTelemetry to shutdown, peak RSS of the process (its worker threads included) and the
 * longest event-loop block. An idle child gives the machine's own timer noise for the last.
 * Needs `npm run build` first (the children run dist/, and the seed is made by the build).
 *
 * Targets (issue 16): first run ≤ 2.5 s and ≤ 350 MiB, reopen ≤ 1 s, no block over 50 ms.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, dropDatabase } from '../tests/support/pg-cluster.js';
import { runChild } from './child.js';
import type { EmbeddedStoreChildResult } from './embedded-store-child.js';
import type { BenchPostgres } from './postgres.js';
import { type Figure, figure, formatBytes, median } from './stats.js';

export interface EmbeddedStoreOptions {
  runs: number;
  postgres: BenchPostgres;
  log: (line: string) => void;
}

const GROUP = 'embedded store';
const EVENTS = 200;
const MIB = 1024 * 1024;
const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

type Case = 'embedded-first' | 'embedded-reopen' | 'postgres-first' | 'postgres-reopen' | 'idle';

function child(mode: string, dataDir: string, url?: string): Promise<EmbeddedStoreChildResult> {
  const args = [mode, dataDir, String(EVENTS), ...(url ? [url] : [])];
  return runChild<EmbeddedStoreChildResult>('embedded-store-child.ts', args, {
    timeoutMs: 120_000,
    plainNode: true,
  });
}

export async function benchEmbeddedStore(options: EmbeddedStoreOptions): Promise<Figure[]> {
  if (!existsSync(join(DIST, 'esm/index.js'))) {
    throw new Error('bench embedded-store: run `npm run build` first (dist/esm is missing)');
  }
  const seed = join(DIST, 'pglite-seed.bin');
  const results: Record<Case, EmbeddedStoreChildResult[]> = {
    'embedded-first': [],
    'embedded-reopen': [],
    'postgres-first': [],
    'postgres-reopen': [],
    idle: [],
  };
  const adminUrl = options.postgres.adminUrl;
  for (let run = 0; run < options.runs; run++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'aitrail-bench-embedded-'));
    const name = `aitrail_bench_embedded_${randomBytes(4).toString('hex')}`;
    const url = await createDatabase(adminUrl, name);
    try {
      // Interleaved, so the machine's drift during the run touches every case alike.
      results.idle.push(await child('idle', dataDir));
      results['embedded-first'].push(await child('embedded', dataDir));
      results['postgres-first'].push(await child('postgres', dataDir, url));
      results['embedded-reopen'].push(await child('embedded', dataDir));
      results['postgres-reopen'].push(await child('postgres', dataDir, url));
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await dropDatabase(adminUrl, name);
    }
    const last = (c: Case) => results[c].at(-1) as EmbeddedStoreChildResult;
    options.log(
      `  run ${run + 1}: embedded first ${ms(last('embedded-first'))} / reopen ${ms(last('embedded-reopen'))}, postgres first ${ms(last('postgres-first'))} / reopen ${ms(last('postgres-reopen'))}; load ${loadavg()[0]?.toFixed(1)}`,
    );
  }
  for (const c of [
    'embedded-first',
    'embedded-reopen',
    'postgres-first',
    'postgres-reopen',
  ] as const) {
    const wrong = results[c].filter((r) => r.rows === 0);
    if (wrong.length > 0) throw new Error(`bench embedded-store: ${c} read back no rows`);
  }

  const series = (c: Case, pick: (r: EmbeddedStoreChildResult) => number) => results[c].map(pick);
  const make = (
    id: string,
    c: Case,
    label: string,
    unit: 'ms' | 'MiB',
    pick: (r: EmbeddedStoreChildResult) => number,
    baseline?: Figure | Figure[],
  ) => figure({ group: GROUP, id, label, unit, samples: series(c, pick), baseline });
  const total = (r: EmbeddedStoreChildResult) => r.totalMs;
  const rss = (r: EmbeddedStoreChildResult) => r.peakRssBytes / MIB;
  const block = (r: EmbeddedStoreChildResult) => r.maxBlockMs;
  const life = `initAuditTelemetry, ${EVENTS} events, flush, 2 reads, shutdown`;

  const noise = make(
    'es.idle.block',
    'idle',
    'idle child: longest timer gap (machine noise)',
    'ms',
    block,
  );
  const pgFirst = make(
    'es.pg.first',
    'postgres-first',
    `Postgres, empty database: ${life}`,
    'ms',
    total,
  );
  const pgReopen = make(
    'es.pg.reopen',
    'postgres-reopen',
    `Postgres, migrated: ${life}`,
    'ms',
    total,
  );
  const pgFirstRss = make(
    'es.pg.first.rss',
    'postgres-first',
    'Postgres first run: peak RSS',
    'MiB',
    rss,
  );
  const pgReopenRss = make(
    'es.pg.reopen.rss',
    'postgres-reopen',
    'Postgres reopen: peak RSS',
    'MiB',
    rss,
  );
  const pgBlock = make(
    'es.pg.block',
    'postgres-first',
    'Postgres first run: longest event-loop block',
    'ms',
    block,
    noise,
  );

  const first = make(
    'es.first',
    'embedded-first',
    `embedded, new data dir: ${life}`,
    'ms',
    total,
    pgFirst,
  );
  const reopen = make(
    'es.reopen',
    'embedded-reopen',
    `embedded, reopened: ${life}`,
    'ms',
    total,
    pgReopen,
  );
  const firstRss = make(
    'es.first.rss',
    'embedded-first',
    'embedded first run: peak RSS (worker thread included)',
    'MiB',
    rss,
    pgFirstRss,
  );
  const reopenRss = make(
    'es.reopen.rss',
    'embedded-reopen',
    'embedded reopen: peak RSS',
    'MiB',
    rss,
    pgReopenRss,
  );
  const firstBlock = make(
    'es.first.block',
    'embedded-first',
    'embedded first run: longest event-loop block',
    'ms',
    block,
    [noise, pgBlock],
  );
  const reopenBlock = make(
    'es.reopen.block',
    'embedded-reopen',
    'embedded reopen: longest event-loop block',
    'ms',
    block,
    noise,
  );

  first.target = { text: '≤ 2,500 ms', met: first.median <= 2500 };
  firstRss.target = { text: '≤ 350 MiB', met: firstRss.median <= 350 };
  reopen.target = { text: '≤ 1,000 ms', met: reopen.median <= 1000 };
  firstBlock.target = { text: '≤ 50 ms', met: firstBlock.median <= 50 };
  reopenBlock.target = { text: '≤ 50 ms', met: reopenBlock.median <= 50 };

  const phases = (c: Case) => {
    const m = (pick: (r: EmbeddedStoreChildResult) => number) => median(series(c, pick)).toFixed(0);
    return `init ${m((r) => r.initMs)} + write ${m((r) => r.writeMs)} + read ${m((r) => r.queryMs)} + shutdown ${m((r) => r.shutdownMs)} ms`;
  };
  first.note = [
    `medians by phase: embedded first ${phases('embedded-first')}; reopen ${phases('embedded-reopen')}`,
    `Postgres first ${phases('postgres-first')}; reopen ${phases('postgres-reopen')}`,
    `seed in the package: ${existsSync(seed) ? formatBytes(statSync(seed).size) : 'missing (first run made the store the slow way)'}`,
    `monitorEventLoopDelay max (embedded first/reopen): ${median(series('embedded-first', (r) => r.maxDelayMs)).toFixed(0)} / ${median(series('embedded-reopen', (r) => r.maxDelayMs)).toFixed(0)} ms`,
  ].join('; ');
  return [
    first,
    firstRss,
    firstBlock,
    reopen,
    reopenRss,
    reopenBlock,
    pgFirst,
    pgFirstRss,
    pgBlock,
    pgReopen,
    pgReopenRss,
    noise,
  ];
}

function ms(r: EmbeddedStoreChildResult): string {
  return `${(r.totalMs / 1000).toFixed(2)} s ${(r.peakRssBytes / MIB).toFixed(0)} MiB block ${r.maxBlockMs.toFixed(0)} ms`;
}
