import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { threadEnv, threadExecArgv } from '../src/store/thread-options.js';

/** Starts a worker with `execArgv` and resolves with its exit code: Node refuses bad options. */
async function startsWith(execArgv: string[]): Promise<number> {
  const worker = new Worker('process.exit(0)', { eval: true, execArgv });
  return new Promise((resolve) => worker.on('exit', resolve));
}

describe("options aitrail's worker threads take from the app", () => {
  const app = [
    '--max-old-space-size=4096',
    '--stack-size',
    '900',
    '--expose-gc',
    '--require',
    './agent.cjs',
    '--import=./otel.mjs',
    '--enable-source-maps',
    '--conditions',
    'workerd',
    '--cpu-prof',
    '--cpu-prof-dir=/tmp/profiles',
    '--no-warnings',
  ];

  it('keeps per-thread options with their values, drops V8 options and preloads', () => {
    expect(threadExecArgv(false, app)).toEqual([
      '--enable-source-maps',
      '--conditions',
      'workerd',
      '--cpu-prof',
      '--cpu-prof-dir=/tmp/profiles',
      '--no-warnings',
    ]);
  });

  it('loads TypeScript sources through tsx, whatever the app loaded', () => {
    expect(threadExecArgv(true, ['--import', 'tsx'])).toEqual(['--import', 'tsx']);
    expect(threadExecArgv(true, [])).toEqual(['--import', 'tsx']);
  });

  it('gives options Node accepts for a worker (the app options as given are refused)', async () => {
    await expect(startsWith(app.slice(0, 3))).rejects.toMatchObject({
      code: 'ERR_WORKER_INVALID_EXEC_ARGV',
    });
    const kept = threadExecArgv(false, app).filter((arg) => !arg.startsWith('--cpu-prof'));
    expect(await startsWith(kept)).toBe(0);
  });

  it('strips preloads from NODE_OPTIONS, which a worker reads again from its env', () => {
    const env = threadEnv({
      NODE_OPTIONS: '--require "./my agent.cjs" --max-old-space-size=512 --import=./otel.mjs',
      OTHER: 'kept',
    });
    expect(env).toEqual({ NODE_OPTIONS: '--max-old-space-size=512', OTHER: 'kept' });
  });
});
