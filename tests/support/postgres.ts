/**
 * Postgres for test files.
 *
 * - `testDatabaseUrl()`: a fresh, empty database on the run's shared server, one per call.
 *   Call it once per file (in `beforeAll`) so files running in parallel never see each
 *   other's rows.
 * - `startPrivateCluster()`: a whole cluster owned by the calling file. Durability tests
 *   that crash or restart the server use this: stopping the shared server would break
 *   every other file running in parallel. Stop it in `afterAll` (`cluster.stop()`);
 *   whatever a killed worker leaves behind is removed by the global teardown.
 * - `stopServer()` / `startServer()`: act on the shared server. Only safe when nothing else
 *   runs at the same time (`--no-file-parallelism`, a single file); prefer a private cluster.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { TestPostgres } from './global-setup.js';
import {
  createDatabase,
  pgCtlStart,
  pgCtlStop,
  type StopMode,
  startThrowawayCluster,
  type ThrowawayCluster,
  type ThrowawayClusterOptions,
} from './pg-cluster.js';

/** Superuser URL of the shared server. Throws with the reason when there is none. */
export function adminDatabaseUrl(): string {
  const { adminUrl, unavailableReason } = testPostgres();
  if (adminUrl) return adminUrl;
  throw new Error(
    `No Postgres for this test: ${(unavailableReason ?? 'unknown reason').replace(/\.$/, '')}. ` +
      'Set DATABASE_URL to a server whose role may CREATE DATABASE, or install Postgres 15+ ' +
      'server binaries (initdb, pg_ctl) so the tests can start their own.',
  );
}

/** Creates an empty database on the shared server; returns its URL. */
export async function testDatabaseUrl(): Promise<string> {
  const name = `${testPostgres().databasePrefix}${randomBytes(6).toString('hex')}`;
  return createDatabase(adminDatabaseUrl(), name);
}

/** Starts a cluster owned by the caller (fsync on unless `fast: true`); see the file comment. */
export function startPrivateCluster(
  options: ThrowawayClusterOptions = {},
): Promise<ThrowawayCluster> {
  return startThrowawayCluster({ parentDir: testPostgres().runRoot, ...options });
}

/** This run's scratch directory: removed by the global teardown, shared by the run's files. */
export function runScratchDir(): string {
  return testPostgres().runRoot;
}

/** Stops the SHARED server. Breaks files running in parallel; prefer `startPrivateCluster()`. */
export function stopServer(mode: StopMode = 'fast'): Promise<void> {
  return pgCtlStop(sharedControl(), mode);
}

/** Starts the SHARED server again on its port after `stopServer()`. */
export function startServer(): Promise<void> {
  return pgCtlStart(sharedControl());
}

function sharedControl() {
  const { control } = testPostgres();
  if (control) return control;
  throw new Error(
    'The shared Postgres is not a throwaway cluster (DATABASE_URL is set, or none started), ' +
      'so it cannot be stopped or started: use startPrivateCluster().',
  );
}

function testPostgres(): TestPostgres {
  const provided = inject('aitrailPostgres');
  if (!provided) {
    throw new Error(
      'tests/support/global-setup.ts did not run: check globalSetup in vitest.config.ts',
    );
  }
  return provided;
}
