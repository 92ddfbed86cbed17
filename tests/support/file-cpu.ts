/**
 * Per-file CPU of a test run, for finding what makes the suite slow: with AITRAIL_FILE_CPU=<file>
 * set, each test file appends one JSON line with its worker's CPU seconds (`user`, `sys`) and
 * that of the child processes it waited for (`cuser`, `csys`, Linux only). Workers run one file
 * each (isolate), so each line is that file's. The Postgres server's CPU is not in it.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, expect } from 'vitest';

const out = process.env.AITRAIL_FILE_CPU;
if (out) {
  afterAll(() => {
    const self = process.resourceUsage();
    // Fields 16 and 17 of /proc/self/stat (after the command name): waited-for children, in ticks.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const line = {
      file: expect.getState().testPath ?? '?',
      pid: process.pid,
      user: self.userCPUTime / 1e6,
      sys: self.systemCPUTime / 1e6,
      cuser: Number(fields[13]) / 100,
      csys: Number(fields[14]) / 100,
    };
    appendFileSync(out, `${JSON.stringify(line)}\n`);
  });
}
