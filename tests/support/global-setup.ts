/**
 * Vitest global setup: one Postgres server per test project (the fault tests get their own).
 *
 * `DATABASE_URL` set: that server is used (it must accept CREATE DATABASE). Otherwise a
 * throwaway cluster is started and removed at the end. Test files read the result with
 * `inject('aitrailPostgres')` (see ./postgres.ts), which is per project; an environment
 * variable would not be (every project's workers inherit this one process's env).
 *
 * No Postgres: under CI=true the run aborts here; elsewhere a loud warning is printed and
 * every test that asks for a database fails with the reason (never a silent skip).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { compileTestTree, removeTestTree } from './compiled-tree.js';
import {
  type ClusterControl,
  dropDatabase,
  redactUrl,
  removeClusterTree,
  startThrowawayCluster,
  type ThrowawayCluster,
} from './pg-cluster.js';
import { ensurePgliteSeed } from './pglite-seed.js';

export interface TestPostgres {
  /** Superuser URL of the shared server; null when no Postgres could be had. */
  adminUrl: string | null;
  /** Why there is no Postgres, for the error every database-dependent test then throws. */
  unavailableReason: string | null;
  /** pg_ctl control of the shared throwaway cluster; null for an external DATABASE_URL. */
  control: ClusterControl | null;
  /** Prefix of the databases this run creates, so teardown drops exactly those. */
  databasePrefix: string;
  /** Temp dir for private clusters of this run; teardown kills and removes whatever is left. */
  runRoot: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    aitrailPostgres: TestPostgres;
    /** The sources compiled for child processes (see ./compiled-tree.ts). */
    aitrailCompiledTree: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAt = performance.now();
  const runRoot = await mkdtemp(join(tmpdir(), 'aitrail-test-'));
  // Root: clusters below run as `postgres`, which must traverse this dir (not list it).
  await chmod(runRoot, 0o711);
  process.once('exit', () => removeClusterTree(runRoot));

  const databasePrefix = `aitrail_t_${randomBytes(4).toString('hex')}_`;
  const externalUrl = process.env.DATABASE_URL;
  let cluster: ThrowawayCluster | undefined;
  let adminUrl: string | null = null;
  let unavailableReason: string | null = null;

  try {
    if (externalUrl) {
      await checkExternalServer(externalUrl);
      adminUrl = externalUrl;
    } else {
      cluster = await startThrowawayCluster({ fast: true, parentDir: runRoot });
      adminUrl = cluster.url;
      const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
      console.info(`[postgres] throwaway cluster on port ${cluster.port} ready in ${seconds}s`);
    }
  } catch (error) {
    unavailableReason = error instanceof Error ? error.message : String(error);
    const source = externalUrl ? `DATABASE_URL=${redactUrl(externalUrl)}` : 'a throwaway cluster';
    if (process.env.CI === 'true') {
      removeClusterTree(runRoot);
      throw new Error(`CI=true and no Postgres for the tests (${source}): ${unavailableReason}`, {
        cause: error,
      });
    }
    console.error(banner(`NO POSTGRES (${source}): ${unavailableReason}`));
  }

  const seedStartedAt = performance.now();
  const seed = await ensurePgliteSeed();
  if (seed !== 'found') {
    const seconds = ((performance.now() - seedStartedAt) / 1000).toFixed(1);
    console.info(`[pglite] embedded-store seed ${seed} in ${seconds}s`);
  }

  const tree = compileTestTree(fileURLToPath(new URL('../../', import.meta.url)));
  process.once('exit', () => removeTestTree(tree));
  project.provide('aitrailCompiledTree', tree);
  project.provide('aitrailPostgres', {
    adminUrl,
    unavailableReason,
    control: cluster?.control ?? null,
    databasePrefix,
    runRoot,
  });

  return async () => {
    try {
      if (cluster) await cluster.stop();
      else if (adminUrl) await dropRunDatabases(adminUrl, databasePrefix);
    } finally {
      removeClusterTree(runRoot);
      removeTestTree(tree);
    }
  };
}

async function checkExternalServer(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} });
  try {
    const [row] = await sql<{ version: number; canCreate: boolean }[]>`
      SELECT current_setting('server_version_num')::int AS version,
             (SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user) AS "canCreate"
    `;
    if (!row || row.version < 150000) {
      throw new Error(`server version ${row?.version} is older than Postgres 15`);
    }
    if (!row.canCreate) {
      throw new Error('the role cannot CREATE DATABASE, which each test file needs');
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** On an external server only our databases go; another run may share it. */
async function dropRunDatabases(adminUrl: string, prefix: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, connect_timeout: 10, onnotice: () => {} });
  let names: string[];
  try {
    const rows = await sql<{ datname: string }[]>`
      SELECT datname FROM pg_database WHERE starts_with(datname, ${prefix})
    `;
    names = rows.map((row) => row.datname);
  } finally {
    await sql.end({ timeout: 5 });
  }
  for (const name of names) await dropDatabase(adminUrl, name);
}

function banner(message: string): string {
  const rule = '!'.repeat(78);
  return `\n${rule}\n${message}\nTests that need Postgres will fail. Set DATABASE_URL or install Postgres 15+ server binaries.\n${rule}\n`;
}
