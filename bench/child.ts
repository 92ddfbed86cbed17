/**
 * Runs a bench script in a child Node process (through tsx, like `npm run bench`), so a peak
 * RSS figure belongs to the measured work alone. The child prints one line
 * `BENCH_RESULT <json>` on stdout; anything else it prints is kept for error messages only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RESULT_MARKER = 'BENCH_RESULT ';
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const running = new Set<ChildProcess>();

/** Children still running, so an interrupted bench can end exactly the processes it started. */
export function killRunningChildren(): void {
  for (const child of running) child.kill('SIGKILL');
}

export async function runChild<T>(
  script: string,
  args: string[],
  options: {
    timeoutMs: number;
    /** Plain Node, which strips the script's types itself: no tsx loader in what is measured. */
    plainNode?: boolean;
  },
): Promise<T> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const loader = options.plainNode ? [] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...loader, path, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode, signal) => resolve(signal ? null : exitCode));
  }).finally(() => {
    clearTimeout(timer);
    running.delete(child);
  });
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
  if (code !== 0 || line === undefined) {
    throw new Error(
      `bench child ${script} ${args.join(' ')} failed (exit ${code ?? 'killed'}):\n${stderr.trim()}`,
    );
  }
  return JSON.parse(line.slice(RESULT_MARKER.length)) as T;
}

/** Called by a child script to hand its result to the parent. */
export function reportToParent(result: unknown): void {
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
}

/**
 * Peak resident set size of this process so far, in bytes. On Linux from `VmHWM`: `maxRSS`
 * (getrusage) is kept across `execve`, so a child spawned by a large parent reports the
 * parent's peak at the fork, not its own (measured: 403 MiB for a child whose own was 42 MiB).
 */
export function peakRssBytes(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kib !== undefined) return Number(kib) * 1024;
  } catch {
    // Not Linux: getrusage is what there is.
  }
  return process.resourceUsage().maxRSS * 1024;
}
