/**
 * `npm run bench` (quick) or `npm run bench -- --full`: starts a throwaway Postgres (or uses
 * DATABASE_URL), runs the benchmarks, prints a table and writes bench/results/latest.json (and
 * latest.md, the same table in Markdown).
 *
 *   --full              full sizes and 5+ runs per figure (~13 min on 2 cores; quick ~2.5 min)
 *   --only a,b          run only these benchmarks (import-time, hot-path, redactor, ingest, verify,
 *                       proofs, queries, subjects, embedded-store, memory); import-time and
 *                       embedded-store read dist/ (npm run build)
 *   --runs N            runs per figure (default: quick 3, full 5; the hot path runs 7 in full)
 *   --out FILE          JSON output (default bench/results/latest.json)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { killRunningChildren } from './child.js';
import { type Dataset, describeDataset, generateDataset } from './dataset.js';
import { benchEmbeddedStore } from './embedded-store.js';
import { benchHotPath } from './hot-path.js';
import { benchImportTime } from './import-time.js';
import { benchIngest } from './ingest.js';
import { describeMachine, describeMachineText, type MachineInfo } from './machine.js';
import { benchMemory } from './memory.js';
import { type BenchPostgres, startBenchPostgres } from './postgres.js';
import { benchProofs } from './proofs.js';
import { benchQueries } from './queries.js';
import { benchRedactor } from './redactor.js';
import { withDeadline } from './runtime.js';
import { type Figure, formatDuration, renderMarkdownTable, renderTable } from './stats.js';
import { benchSubjects } from './subjects.js';
import { benchVerify } from './verify.js';

const BENCHMARKS = [
  'import-time',
  'hot-path',
  'redactor',
  'ingest',
  'verify',
  'proofs',
  'queries',
  'subjects',
  'embedded-store',
  'memory',
] as const;
type BenchmarkName = (typeof BENCHMARKS)[number];

export interface BenchConfig {
  mode: 'quick' | 'full';
  runs: number;
  hotPathRuns: number;
  hotPathSpans: number;
  ingestRecords: number;
  /** Records of the app-shaped ingest run (`i.app`). */
  ingestAppRecords: number;
  naiveInsertSample: number;
  datasetRows: number;
  /** The smaller table of the data-subjects benchmark; the larger is 10×. */
  subjectsRows: number;
  memoryEvents: number;
}

function configFor(full: boolean, runsOverride: number | undefined): BenchConfig {
  const runs = runsOverride ?? (full ? 5 : 3);
  return full
    ? {
        mode: 'full',
        runs,
        hotPathRuns: runsOverride ?? 7,
        hotPathSpans: 100_000,
        ingestRecords: 100_000,
        ingestAppRecords: 50_000,
        naiveInsertSample: 5_000,
        datasetRows: 1_000_000,
        subjectsRows: 1_000_000,
        memoryEvents: 100_000,
      }
    : {
        mode: 'quick',
        runs,
        hotPathRuns: runs,
        hotPathSpans: 20_000,
        ingestRecords: 20_000,
        ingestAppRecords: 20_000,
        naiveInsertSample: 1_000,
        datasetRows: 100_000,
        subjectsRows: 20_000,
        memoryEvents: 100_000,
      };
}

function parseCommandLine(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      full: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      runs: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (values.full && values.quick) throw new TypeError('--full and --quick exclude each other');
  const only = values.only?.split(',').map((s) => s.trim()) ?? [...BENCHMARKS];
  for (const name of only) {
    if (!(BENCHMARKS as readonly string[]).includes(name)) {
      throw new TypeError(`--only: unknown benchmark "${name}" (known: ${BENCHMARKS.join(', ')})`);
    }
  }
  let runs: number | undefined;
  if (values.runs !== undefined) {
    runs = Number(values.runs);
    if (!Number.isInteger(runs) || runs < 1) {
      throw new TypeError(`--runs must be a whole number ≥ 1, got "${values.runs}"`);
    }
  }
  const defaultOut = fileURLToPath(new URL('results/latest.json', import.meta.url));
  return {
    config: configFor(values.full, runs),
    only: new Set(only as BenchmarkName[]),
    out: resolve(values.out ?? defaultOut),
  };
}

interface BenchOutcome {
  figures: Figure[];
  /** What the verify and query figures were measured on. */
  dataset: string | null;
}

async function runBenchmarks(
  only: Set<BenchmarkName>,
  config: BenchConfig,
  postgres: BenchPostgres,
  log: (line: string) => void,
): Promise<BenchOutcome> {
  const figures: Figure[] = [];
  let datasetText: string | null = null;
  const deadlineMs = config.mode === 'full' ? 20 * 60_000 : 5 * 60_000;
  const step = async (name: BenchmarkName, run: () => Promise<Figure[]>, deadline = deadlineMs) => {
    if (!only.has(name)) return;
    const started = performance.now();
    log(`▶ ${name}`);
    figures.push(...(await withDeadline(run(), deadline, `benchmark "${name}"`)));
    log(`  done in ${formatDuration(performance.now() - started)}`);
  };
  await step('import-time', () => benchImportTime({ runs: config.runs }));
  await step('hot-path', () =>
    benchHotPath({ runs: config.hotPathRuns, spansPerRun: config.hotPathSpans, postgres }),
  );
  await step('redactor', () =>
    benchRedactor({ runs: config.runs, corpusBytes: config.mode === 'full' ? 2_000_000 : 500_000 }),
  );
  await step('ingest', () =>
    benchIngest({
      runs: config.runs,
      records: config.ingestRecords,
      appRecords: config.ingestAppRecords,
      naiveSample: config.naiveInsertSample,
      postgres,
      log,
    }),
  );
  if (only.has('verify') || only.has('queries') || only.has('proofs')) {
    log(`▶ dataset: ${config.datasetRows.toLocaleString('en-US')} rows through 4 AuditWriters`);
    const started = performance.now();
    const dataset: Dataset = await withDeadline(
      generateDataset(postgres, config.datasetRows),
      deadlineMs,
      'dataset generation',
    );
    datasetText = describeDataset(dataset);
    log(`  ${datasetText}\n  done in ${formatDuration(performance.now() - started)}`);
    try {
      await step('verify', () =>
        benchVerify({
          runs: config.runs,
          dataset,
          postgres,
          log,
          // Full mode: rows/s and memory at 100,000 rows too, beside the 1,000,000-row table.
          smallerRows: config.mode === 'full' ? 100_000 : null,
          newRows: 10_000,
        }),
      );
      await step('proofs', () => benchProofs({ runs: config.runs, dataset }));
      await step('queries', () => benchQueries({ runs: config.runs, dataset }));
    } finally {
      await dataset.database.drop();
    }
  }
  // Generating the 10× table dominates: 11M rows take most of an hour on two busy cores.
  await step(
    'subjects',
    () => benchSubjects({ runs: config.runs, rows: config.subjectsRows, postgres, log }),
    config.mode === 'full' ? 120 * 60_000 : 20 * 60_000,
  );
  await step('embedded-store', () => benchEmbeddedStore({ runs: config.runs, postgres, log }));
  // Last: it stops the throwaway cluster.
  await step('memory', () =>
    benchMemory({ runs: config.runs, events: config.memoryEvents, postgres, log }),
  );
  return { figures, dataset: datasetText };
}

/** The table, the machine and the notes as Markdown, ready for the README. */
function renderMarkdownReport(report: {
  mode: string;
  durationMs: number;
  machine: MachineInfo;
  dataset: string | null;
  figures: Figure[];
}): string {
  const notes = report.figures.filter((f) => f.note).map((f) => `- \`${f.id}\`: ${f.note}`);
  return [
    `${report.mode} mode, ${formatDuration(report.durationMs)}.`,
    '',
    '```',
    describeMachineText(report.machine),
    '```',
    '',
    renderMarkdownTable(report.figures),
    '',
    ...(report.dataset ? [`Dataset (verify, queries): ${report.dataset}.`, ''] : []),
    ...notes,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const { config, only, out } = parseCommandLine(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = performance.now();
  log(`aitrail bench, ${config.mode} mode (${[...only].join(', ')})`);
  const postgres = await startBenchPostgres();
  // `on`, not `once`: npm and tsx relay a signal more than once, and a second default-handled
  // signal would end the process while the cluster's files are still being removed.
  let stopping = false;
  const stopOnSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`\n${signal}: stopping the bench's Postgres and child processes`);
    killRunningChildren();
    void postgres.close().finally(() => process.exit(130));
  };
  process.on('SIGINT', stopOnSignal);
  process.on('SIGTERM', stopOnSignal);
  let machine: MachineInfo;
  let outcome: BenchOutcome;
  try {
    machine = await describeMachine(postgres.adminUrl, postgres.source);
    log(describeMachineText(machine));
    if ((loadavg()[0] ?? 0) > cpus().length / 4) {
      log('warning: other processes are using the CPU; figures will be noisy (see load average)');
    }
    outcome = await runBenchmarks(only, config, postgres, log);
  } finally {
    killRunningChildren();
    await postgres.close();
  }
  const durationMs = performance.now() - started;
  const { figures, dataset } = outcome;
  process.stdout.write(`\n${describeMachineText(machine)}\n\n${renderTable(figures)}\n\n`);
  if (dataset) process.stdout.write(`dataset (verify, queries): ${dataset}\n`);
  for (const f of figures.filter((f) => f.note)) {
    process.stdout.write(`note ${f.id}: ${f.note}\n`);
  }
  await mkdir(dirname(out), { recursive: true });
  const report = {
    mode: config.mode,
    config,
    finishedAt: new Date().toISOString(),
    durationMs,
    machine,
    loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100),
    dataset,
    figures,
  };
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = `${out.replace(/\.json$/, '')}.md`;
  await writeFile(markdown, renderMarkdownReport(report));
  process.stdout.write(`load average at end: ${report.loadAverageAtEnd.join(' ')}\n`);
  process.stdout.write(
    `\n${config.mode} mode took ${formatDuration(durationMs)}; wrote ${out} and ${markdown}\n`,
  );
}

main().then(
  // A benchmark that timed out may leave sockets or timers behind: exit rather than wait on them.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
