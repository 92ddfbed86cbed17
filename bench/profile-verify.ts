/**
 * `npx tsx bench/profile-verify.ts [--rows N] [--threads on|off|auto] [--top N] [--out DIR]`:
 * where verify's CPU goes. Starts a throwaway Postgres (or uses DATABASE_URL), generates the
 * bench's table, runs `verifyAuditChains` over it in a child process under `--cpu-prof` (every
 * thread writes its own profile) while reading the CPU time of the Postgres processes from /proc,
 * and prints µs per row: Node by area (hashing, canonical JSON, reading the COPY stream, the
 * chain walk, the garbage collector, …) and by function, and Postgres. With both sides' costs per
 * row, what two cores can reach follows: 2 / (Node + Postgres) rows per µs when both are busy.
 *
 * The .cpuprofile files stay in the output folder (default a temp dir) for DevTools or
 * speedscope; `summary.txt` beside them is what was printed.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { generateDataset } from './dataset.js';
import { startBenchPostgres } from './postgres.js';
import type { VerifyChildResult } from './verify-child.js';

interface CallFrame {
  functionName: string;
  url: string;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  samples: number[];
  timeDeltas: number[];
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULT_MARKER = 'BENCH_RESULT ';

/** Areas of verify's work, by the file a function lives in (first match wins). */
const AREAS: ReadonlyArray<[string, RegExp]> = [
  ['hashing (node:crypto, merkle)', /crypto\/hash|merkle\//],
  ['canonical JSON of rows', /verify\/(row-check|jsonb-canonical|verify-row)\.ts/],
  ['chain walk (links, heads, tree)', /verify\/(chain-walk|chain-verifier)\.ts/],
  [
    'reading rows (postgres.js, streams, splitting)',
    /postgres\/src|streams|verify\/chain-rows|node:buffer|node:events|internal\/buffer/,
  ],
  ['walk threads (hand-over)', /verify\/walk-/],
  ['module loading', /internal\/modules|bootstrap|esbuild|tsx\/dist/],
];

function areaOf(frame: CallFrame): string {
  if (frame.functionName === '(garbage collector)') return 'garbage collector';
  if (frame.functionName === '(program)') return 'V8 (program)';
  for (const [area, pattern] of AREAS) if (pattern.test(frame.url)) return area;
  return 'other';
}

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '200000' },
      threads: { type: 'string', default: 'auto' },
      top: { type: 'string', default: '20' },
      out: { type: 'string' },
    },
  });
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 1000)
    throw new TypeError('--rows must be a whole number >= 1000');
  if (!['on', 'off', 'auto'].includes(values.threads as string))
    throw new TypeError('--threads must be on, off or auto');
  return {
    rows,
    threads: values.threads as 'on' | 'off' | 'auto',
    top: Number(values.top),
    out: values.out,
  };
}

/**
 * CPU time (ms) of the Postgres server's processes: the live children of the postmaster, and
 * (its cutime and cstime) the children it already reaped, such as backends of closed connections.
 */
function serverCpu(postmaster: number): { live: Map<number, number>; reaped: number } {
  const live = new Map<number, number>();
  let reaped = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = (i: number) => (Number(fields[i]) * 1000) / 100;
      if (Number(entry) === postmaster) reaped = ticks(13) + ticks(14);
      else if (Number(fields[1]) === postmaster) live.set(Number(entry), ticks(11) + ticks(12));
    } catch {
      // gone meanwhile
    }
  }
  return { live, reaped };
}

function cpuSince(
  before: ReturnType<typeof serverCpu>,
  after: ReturnType<typeof serverCpu>,
): number {
  let total = after.reaped - before.reaped;
  for (const [pid, ms] of after.live) total += ms - (before.live.get(pid) ?? 0);
  // A process reaped in between is in `reaped` whole: take off what it had used before.
  for (const [pid, ms] of before.live) if (!after.live.has(pid)) total -= ms;
  return total;
}

async function main(): Promise<void> {
  const options = parseCommandLine();
  const out = resolve(options.out ?? (await mkdtemp(join(tmpdir(), 'aitrail-verify-profile-'))));
  const lines: string[] = [];
  const print = (line = '') => {
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };
  const server = await startBenchPostgres();
  try {
    process.stderr.write(`generating ${options.rows.toLocaleString('en-US')} rows…\n`);
    const dataset = await generateDataset(server, options.rows);
    const sql = postgres(dataset.database.url, { max: 1, onnotice: () => {} });
    const [{ pid } = { pid: 0 }] = await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const postmaster = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    await sql.end();

    const before = serverCpu(postmaster);
    const env = { ...process.env, NODE_OPTIONS: '' };
    const threads = options.threads === 'auto' ? [] : ['--threads', options.threads];
    const result = await new Promise<VerifyChildResult>((resolveChild, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--cpu-prof',
          '--cpu-prof-dir',
          out,
          '--import',
          'tsx',
          'bench/verify-child.ts',
          'verify',
          dataset.database.url,
          ...threads,
        ],
        { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let stdout = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.on('error', reject);
      child.on('close', (code) => {
        const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
        if (code !== 0 || !line) reject(new Error(`verify child exited ${code}`));
        else resolveChild(JSON.parse(line.slice(RESULT_MARKER.length)) as VerifyChildResult);
      });
    });
    const postgresMs = cpuSince(before, serverCpu(postmaster));
    await dataset.database.drop();

    const perRow = (micros: number) => (micros / result.rows).toFixed(2);
    print(
      `verifyAuditChains over ${result.rows.toLocaleString('en-US')} rows in ${result.chains} chains: ${Math.round(result.rows / result.seconds).toLocaleString('en-US')} rows/s, ${result.threads} walk thread(s); load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const byArea = new Map<string, number>();
    const byFunction = new Map<string, number>();
    let nodeMicros = 0;
    let startupMicros = 0;
    for (const file of (await readdir(out)).filter((f) => f.endsWith('.cpuprofile'))) {
      const profile = JSON.parse(await readFile(join(out, file), 'utf8')) as CpuProfile;
      const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
      profile.samples.forEach((id, i) => {
        const frame = frames.get(id) as CallFrame;
        const micros = profile.timeDeltas[i] ?? 0;
        if (frame.functionName === '(idle)') return;
        const area = areaOf(frame);
        // Loading the modules is paid once per process, not per row.
        if (area === 'module loading') {
          startupMicros += micros;
          return;
        }
        nodeMicros += micros;
        byArea.set(area, (byArea.get(area) ?? 0) + micros);
        const key = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(src|node_modules)\//, '')}`;
        byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
      });
    }
    print();
    print(
      `µs per row      Node (all threads, busy samples) ${perRow(nodeMicros)}   Postgres ${perRow(postgresMs * 1000)}   (module loading, once: ${(startupMicros / 1000).toFixed(0)} ms)`,
    );
    print(
      `µs per row      Node process CPU (every thread, from the child itself) ${perRow(result.cpuSeconds * 1e6)}`,
    );
    print(
      `two cores, both busy, at these costs: ${Math.round((2 * result.rows * 1e6) / (result.cpuSeconds * 1e6 + postgresMs * 1000)).toLocaleString('en-US')} rows/s at most (process CPU; with the profile's busy samples, which a loaded machine inflates: ${Math.round((2 * result.rows * 1e6) / (nodeMicros + postgresMs * 1000)).toLocaleString('en-US')})`,
    );
    print();
    print('Node by area');
    for (const [area, micros] of [...byArea].sort((a, b) => b[1] - a[1]))
      print(`  ${perRow(micros).padStart(6)}  ${area}`);
    print();
    print(`Node by function (top ${options.top})`);
    for (const [key, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, options.top))
      print(`  ${perRow(micros).padStart(6)}  ${key}`);
    await writeFile(join(out, 'summary.txt'), `${lines.join('\n')}\n`);
    process.stderr.write(`profiles and summary.txt in ${out}\n`);
  } finally {
    await server.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `profile-verify failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
