import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditStore } from '../store/audit-store.js';
import { openAuditStore, resolveDataDir } from '../store/open-store.js';
import { UsageError } from './usage-error.js';

/** `--database-url`, else `DATABASE_URL`; undefined means the embedded store. */
export function resolveDatabaseUrl(option: string | undefined): string | undefined {
  const url = option ?? (process.env.DATABASE_URL || undefined);
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
    throw new UsageError(`--database-url must be a postgres:// URL, got "${url.slice(0, 40)}"`);
  }
  return url;
}

/**
 * The store the CLI reads: `--database-url`, else `DATABASE_URL`, else the embedded store.
 * The embedded store is migrated on open (it is ours); a Postgres URL is used as given, so a
 * read-only role works.
 */
export async function openCliStore(
  databaseUrl: string | undefined,
  migrate = false,
): Promise<AuditStore> {
  const url = resolveDatabaseUrl(databaseUrl);
  if (url === undefined && !migrate) {
    const directory = join(resolveDataDir(), 'pglite');
    if (!existsSync(directory)) {
      throw new UsageError(
        `no audit store at ${directory}: set DATABASE_URL (or --database-url), AITRAIL_DATA_DIR, or record something first (aitrail demo)`,
      );
    }
  }
  return openAuditStore({ databaseUrl: url, migrate: url === undefined || migrate });
}

/** The store a command reads, and where its `audit.read` row goes (`AITRAIL_READ_LOG_URL`). */
export interface CliReading {
  store: AuditStore;
  read: { reader?: string; readLog?: AuditStore };
  close(): Promise<void>;
}

/**
 * Opens the store to read and, when `AITRAIL_READ_LOG_URL` is set (a writer-role URL, for
 * read-only reading roles), the store that records the read.
 */
export async function openCliReading(
  databaseUrl: string | undefined,
  env: NodeJS.ProcessEnv,
  reader: string | undefined,
): Promise<CliReading> {
  const logUrl = env.AITRAIL_READ_LOG_URL || undefined;
  if (logUrl !== undefined && !/^postgres(ql)?:\/\//.test(logUrl))
    throw new UsageError('AITRAIL_READ_LOG_URL must be a postgres:// URL');
  const store = await openCliStore(databaseUrl);
  let readLog: AuditStore | undefined;
  try {
    if (logUrl !== undefined)
      readLog = await openAuditStore({ databaseUrl: logUrl, migrate: false });
  } catch (error) {
    await store.close();
    throw error;
  }
  const who = reader ?? (env.AITRAIL_READER || undefined);
  return {
    store,
    read: { ...(who !== undefined ? { reader: who } : {}), ...(readLog ? { readLog } : {}) },
    async close() {
      await store.close();
      await readLog?.close();
    },
  };
}
