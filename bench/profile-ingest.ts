/**
 * `npx tsx bench/profile-ingest.ts [--records N] [--load app|paced] [--top N] [--out DIR]`:
 * where the ingest run's CPU goes. Starts a throwaway Postgres (or uses DATABASE_URL), runs the
 * ingest load of `npm run bench` in a child process under `--cpu-prof` (every thread writes its
 * own profile), and prints, per thread and for the whole process, self time by function and by
 * area (a folder of src/, a package, Node's internals, the garbage collector), in µs per record,
 * counting only the samples of the measured window (warm-up excluded).
 *
 * The .cpuprofile files stay in the output folder (default bench/results/profile-<time>/, not
 * checked in) for Chrome DevTools or speedscope; `summary.txt` beside them is what was printed.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startBenchPostgres } from './postgres.js';
import type { ProfileChildResult } from './profile-ingest-child.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface ThreadSummary {
  name: string;
  /** Microseconds of samples in the window, by function key and by area; idle excluded. */
  selfByFunction: Map<string, number>;
  totalByFunction: Map<string, number>;
  selfByArea: Map<string, number>;
  busyMicros: number;
  idleMicros: number;
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULT_MARKER = 'BENCH_RESULT ';

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '50000' },
      load: { type: 'string', default: 'app' },
      top: { type: 'string', default: '30' },
      interval: { type: 'string', default: '200' },
      out: { type: 'string' },
    },
  });
  const records = Number(values.records);
  if (!Number.isInteger(records) || records < 1)
    throw new TypeError(`--records must be a whole number ≥ 1, got "${values.records}"`);
  if (values.load !== 'app' && values.load !== 'paced')
    throw new TypeError(`--load must be app or paced, got "${values.load}"`);
  const top = Number(values.top);
  if (!Number.isInteger(top) || top < 1)
    throw new TypeError(`--top must be a whole number ≥ 1, got "${values.top}"`);
  const interval = Number(values.interval);
  if (!Number.isInteger(interval) || interval < 10)
    throw new TypeError(`--interval must be a whole number of µs ≥ 10, got "${values.interval}"`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = resolve(
    values.out ?? fileURLToPath(new URL(`results/profile-${stamp}`, import.meta.url)),
  );
  return { records, load: values.load, top, interval, out };
}

/** Where a frame's code lives: a folder of src/, a package, Node itself, or V8's pseudo-frames. */
function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  const src = url.indexOf('/src/');
  if (src >= 0) {
    const parts = url.slice(src + 1).split('/');
    return parts.length > 2 ? parts.slice(0, -1).join('/') : 'src';
  }
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return 'bench';
  return url;
}

function keyOf(frame: CallFrame): string {
  const { url, functionName, lineNumber } = frame;
  if (url === '') return functionName || '(anonymous)';
  const at = url.replace(/^file:\/\//, '').replace(REPO_ROOT, '');
  const short = at.includes('/node_modules/')
    ? at.slice(at.lastIndexOf('/node_modules/') + 14)
    : at;
  return `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
}

function add(map: Map<string, number>, key: string, micros: number): void {
  map.set(key, (map.get(key) ?? 0) + micros);
}

/** Self and total time per function in [from, to] (microseconds, the profile's clock). */
function summarise(name: string, profile: CpuProfile, from: number, to: number): ThreadSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const summary: ThreadSummary = {
    name,
    selfByFunction: new Map(),
    totalByFunction: new Map(),
    selfByArea: new Map(),
    busyMicros: 0,
    idleMicros: 0,
  };
  let at = profile.startTime;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i] ?? 0;
    if (at < from || at > to) continue;
    // A sample stands for the time until the next one.
    const micros = timeDeltas[i + 1] ?? 0;
    const node = byId.get(samples[i] as number);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') {
      summary.idleMicros += micros;
      continue;
    }
    summary.busyMicros += micros;
    add(summary.selfByFunction, keyOf(node.callFrame), micros);
    add(summary.selfByArea, areaOf(node.callFrame), micros);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (!frame || frame.functionName === '(root)') continue;
      const key = keyOf(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      add(summary.totalByFunction, key, micros);
    }
  }
  return summary;
}

function merge(name: string, threads: readonly ThreadSummary[]): ThreadSummary {
  const all: ThreadSummary = {
    name,
    selfByFunction: new Map(),
    totalByFunction: new Map(),
    selfByArea: new Map(),
    busyMicros: 0,
    idleMicros: 0,
  };
  for (const t of threads) {
    for (const [k, v] of t.selfByFunction) add(all.selfByFunction, k, v);
    for (const [k, v] of t.totalByFunction) add(all.totalByFunction, k, v);
    for (const [k, v] of t.selfByArea) add(all.selfByArea, k, v);
    all.busyMicros += t.busyMicros;
    all.idleMicros += t.idleMicros;
  }
  return all;
}

function table(
  title: string,
  entries: Map<string, number>,
  records: number,
  busy: number,
  top: number,
): string[] {
  const rows = [...entries].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    title,
    ...rows.map(
      ([key, micros]) =>
        `  ${(micros / records).toFixed(2).padStart(8)} µs/rec ${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${key}`,
    ),
  ];
}

function report(t: ThreadSummary, records: number, top: number): string[] {
  return [
    `== ${t.name}: busy ${(t.busyMicros / records).toFixed(1)} µs/record (${(t.busyMicros / 1e6).toFixed(2)} s), idle ${(t.idleMicros / 1e6).toFixed(2)} s`,
    ...table('-- self time by area', t.selfByArea, records, t.busyMicros, top),
    ...table('-- self time by function', t.selfByFunction, records, t.busyMicros, top),
    ...table(
      '-- total time (self + callees) by function',
      t.totalByFunction,
      records,
      t.busyMicros,
      top,
    ),
    '',
  ];
}

async function runProfiledChild(
  args: { url: string; dataDir: string; records: number; load: string; interval: number },
  profileDir: string,
): Promise<ProfileChildResult> {
  const script = fileURLToPath(new URL('profile-ingest-child.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--cpu-prof',
      `--cpu-prof-dir=${profileDir}`,
      `--cpu-prof-interval=${args.interval}`,
      '--import',
      'tsx',
      script,
      args.url,
      args.dataDir,
      String(args.records),
      args.load,
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  const code = await new Promise<number | null>((done, fail) => {
    child.once('error', fail);
    child.once('close', (exitCode) => done(exitCode));
  });
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
  if (code !== 0 || !line) throw new Error(`the profiled child failed (exit ${code})`);
  return JSON.parse(line.slice(RESULT_MARKER.length)) as ProfileChildResult;
}

async function main(): Promise<void> {
  const options = parseCommandLine();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const server = await startBenchPostgres();
  const dataDir = await mkdtemp(join(tmpdir(), 'aitrail-profile-'));
  let result: ProfileChildResult;
  const loadAtStart = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  try {
    const database = await server.freshDatabase('profile_ingest');
    await mkdir(options.out, { recursive: true });
    log(`profiling ${options.records} records (${options.load} load) into ${options.out}`);
    result = await runProfiledChild(
      {
        url: database.url,
        dataDir,
        records: options.records,
        load: options.load,
        interval: options.interval,
      },
      options.out,
    );
    await database.drop();
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  const files = (await readdir(options.out)).filter((f) => f.endsWith('.cpuprofile')).sort();
  const threads: ThreadSummary[] = [];
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(options.out, file), 'utf8')) as CpuProfile;
    // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
    const threadId = file.split('.')[4];
    const name = threadId === '0' ? 'main thread' : `worker thread ${threadId}`;
    threads.push(summarise(name, profile, result.windowStartMicros, result.windowEndMicros));
  }
  const { records } = result;
  const lines = [
    `ingest profile: ${records} records, ${options.load} load, ${result.seconds.toFixed(2)} s, ${Math.round(records / result.seconds)} records/s, process CPU ${(result.cpuMicros / records).toFixed(1)} µs/record (all threads, getrusage), written ${result.written}, accepted ${result.accepted}`,
    `load average at start ${loadAtStart}, at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; sampling every ${options.interval} µs`,
    '',
    ...(threads.length > 1 ? report(merge('all threads', threads), records, options.top) : []),
    ...threads.flatMap((t) => report(t, records, options.top)),
  ];
  const text = lines.join('\n');
  await writeFile(join(options.out, 'summary.txt'), `${text}\n`);
  process.stdout.write(`${text}\nprofiles and summary.txt in ${options.out}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `profile failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
