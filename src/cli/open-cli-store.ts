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
