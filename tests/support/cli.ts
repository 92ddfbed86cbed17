import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The compiled tree's JavaScript for a TypeScript entry point of this repo (`src/cli/main.ts`). */
export function compiledEntry(entry: string): string {
  return join(inject('aitrailCompiledTree'), entry.replace(/\.ts$/, '.js'));
}

/**
 * Runs a TypeScript entry point of this repo in a fresh Node process, the way a user runs the
 * CLI: real argv, real env, real exit code. The entry runs from this test run's compiled tree
 * (./compiled-tree.ts): plain Node, no TypeScript loader in the child.
 */
export function runTs(
  entry: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [compiledEntry(entry), ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `aitrail <args>` from the sources. */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ProcessResult> {
  return runTs('src/cli/main.ts', args, options);
}
