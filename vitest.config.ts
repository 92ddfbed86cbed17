import { defineConfig } from 'vitest/config';

/**
 * Fault tests kill processes, stop servers and fill disks: they run in their own project, so
 * `vitest run --project main` is the quick loop and CI runs both (`npm test`).
 */
const FAULT_TESTS = ['tests/faults/**/*.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['tests/support/global-setup.ts'],
    // AITRAIL_FILE_CPU=<file>: each test file's CPU, one JSON line apiece (tests/support/file-cpu.ts).
    setupFiles: process.env.AITRAIL_FILE_CPU ? ['tests/support/file-cpu.ts'] : [],
    pool: 'forks',
    // Most test time waits on Postgres, child processes and disks, not on this process's CPU:
    // more workers than cores keep both cores busy (vitest's default is cores - 1).
    maxWorkers: 4,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'main', include: ['tests/**/*.test.ts'], exclude: FAULT_TESTS },
      },
      { extends: true, test: { name: 'faults', include: FAULT_TESTS } },
    ],
  },
});
