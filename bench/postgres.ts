/**
 * The Postgres the benchmarks write to: `DATABASE_URL` when given (its role must be allowed
 * to CREATE DATABASE), else a throwaway cluster started the way the tests start theirs, with
 * fsync and synchronous_commit on (`fast: false`), so write figures include real commits.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { openAuditStore } from '../src/store/open-store.js';
import {
  createDatabase,
  dropDatabase,
  findFreePort,
  startThrowawayCluster,
  type ThrowawayCluster,
} from '../tests/support/pg-cluster.js';

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export interface BenchPostgres {
  adminUrl: string;
  /** How the server was obtained, for the report. */
  source: string;
  /** A new database with aitrail's migrations applied (`openAuditStore(url)`). */
  freshDatabase(label: string): Promise<BenchDatabase>;
  /**
   * A URL at which no server answers, as an application sees a database that is down: the
   * throwaway cluster stopped (it is not started again), or, with DATABASE_URL, a closed port.
   */
  downUrl(database: BenchDatabase): Promise<string>;
  /** Stops and removes the throwaway cluster; drops what is left of our databases otherwise. */
  close(): Promise<void>;
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const external = process.env.DATABASE_URL;
  let cluster: ThrowawayCluster | null = null;
  let adminUrl: string;
  let source: string;
  if (external) {
    adminUrl = external;
    source = 'DATABASE_URL (server settings as configured there)';
  } else {
    cluster = await startThrowawayCluster({ fast: false });
    startReaper(cluster.baseDir);
    adminUrl = cluster.url;
    source =
      'throwaway cluster started by the bench (fast: false: fsync and synchronous_commit on)';
  }
  const prefix = `aitrail_bench_${randomBytes(3).toString('hex')}_`;
  const live = new Set<string>();

  return {
    adminUrl,
    source,
    async freshDatabase(label) {
      const name = `${prefix}${label.replace(/[^a-z0-9_]/g, '_')}_${randomBytes(3).toString('hex')}`;
      const url = await createDatabase(adminUrl, name);
      live.add(name);
      const store = await openAuditStore(url);
      await store.close();
      return {
        name,
        url,
        async drop() {
          live.delete(name);
          await dropDatabase(adminUrl, name);
        },
      };
    },
    async downUrl(database) {
      if (cluster) {
        await cluster.stopCluster('fast');
        return database.url;
      }
      const url = new URL(database.url);
      url.hostname = '127.0.0.1';
      url.port = String(await findFreePort());
      return url.toString();
    },
    async close() {
      if (cluster) {
        await cluster.stop();
        return;
      }
      for (const name of live) await dropDatabase(adminUrl, name).catch(() => {});
    },
  };
}

/** A detached process that removes the cluster if this process dies without doing so. */
function startReaper(baseDir: string): void {
  const script = fileURLToPath(new URL('cluster-reaper.ts', import.meta.url));
  const reaper = spawn(
    process.execPath,
    ['--import', 'tsx', script, String(process.pid), baseDir],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  reaper.unref();
}
