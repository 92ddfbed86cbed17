import { join } from 'node:path';
import type { AuditStore } from './audit-store.js';
import { resolveDataDir } from './data-dir.js';
import { assertProtections } from './protections.js';
import { isConnectionError } from './writer/write-errors.js';

export interface OpenAuditStoreOptions {
  /** Postgres connection URL; default `DATABASE_URL`. Absent ⇒ embedded PGlite. */
  databaseUrl?: string;
  /** Directory for the embedded store and the spill journal; default `AITRAIL_DATA_DIR` or `./.aitrail`. */
  dataDir?: string;
  /** Apply pending migrations on open. Default true. */
  migrate?: boolean;
  /** Postgres pool size. Default 4. */
  maxConnections?: number;
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'databaseUrl',
  'dataDir',
  'migrate',
  'maxConnections',
]);

export { resolveDataDir };

/**
 * Opens the audit store: Postgres when a URL is given (or `DATABASE_URL` is set), else the
 * embedded PGlite store under the data directory.
 */
export async function openAuditStore(target?: string | OpenAuditStoreOptions): Promise<AuditStore> {
  const options = typeof target === 'string' ? { databaseUrl: target } : (target ?? {});
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('openAuditStore: expected a Postgres URL string or an options object');
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new TypeError(`openAuditStore: unknown option "${key}"`);
  }
  const databaseUrl = options.databaseUrl ?? (process.env.DATABASE_URL || undefined);
  let store: AuditStore;
  if (databaseUrl !== undefined) {
    assertPostgresUrl(databaseUrl);
    // Loaded on first use, so importing aitrail never loads a driver the app does not use.
    const { PostgresStore } = await import('./postgres-store.js');
    store = new PostgresStore({ url: databaseUrl, maxConnections: options.maxConnections });
  } else {
    const { PgliteStore } = await import('./pglite-store.js');
    store = await PgliteStore.open(join(resolveDataDir(options.dataDir), 'pglite'));
  }
  if (options.migrate !== false) {
    try {
      await migrateUnlessOwnedElsewhere(store);
    } catch (error) {
      await store.close().catch(() => {});
      throw error;
    }
  }
  return store;
}

/**
 * Applies migrations and checks the protections; a role that may not migrate (the insert-only
 * writer, a reader, an auditor) gets on with its work when the owner has migrated and every
 * protection is in place. Other failures, missing tables and missing protections are errors
 * (`ProtectionsMissingError` names what is missing).
 */
export async function migrateUnlessOwnedElsewhere(store: AuditStore): Promise<void> {
  try {
    await store.migrate();
  } catch (error) {
    if (store.kind !== 'postgres' || isConnectionError(error) || !isPermissionProblem(error))
      throw error;
    await assertProtections((text) => store.query(text), store.location);
  }
}

/** insufficient_privilege, read_only_sql_transaction: this role is not the one that migrates. */
export function isPermissionProblem(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === '42501' || code === '25006') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

function assertPostgresUrl(url: string): void {
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) {
    throw new TypeError(
      `databaseUrl must be a postgres:// or postgresql:// URL, got ${JSON.stringify(String(url).slice(0, 40))}`,
    );
  }
}
