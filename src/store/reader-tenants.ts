import { AitrailError } from '../errors.js';
import type { AuditStore } from './audit-store.js';

/** Options of `grantTenantReader` and `revokeTenantReader`. */
export interface TenantReaderOptions {
  /** An existing database role (LOGIN or not), subject to row-level security. */
  role: string;
  /** The tenant it may read. */
  tenant: string;
}

/** Options of `grantTenantReader`. */
export interface GrantTenantReaderOptions extends TenantReaderOptions {
  /**
   * Read through `aitrail_tenant_audit_logs()` only, with no SELECT on the table: for roles that
   * run arbitrary SQL, so EXPLAIN ANALYZE cannot count other tenants' rows. Default false.
   */
  functionOnly?: boolean;
}

/** One row of the mapping the row-level security policy enforces. */
export interface TenantReaderGrant {
  role: string;
  tenant: string;
  grantedAt: string;
}

const OPTION_KEYS: ReadonlySet<string> = new Set(['role', 'tenant']);
const GRANT_OPTION_KEYS: ReadonlySet<string> = new Set(['role', 'tenant', 'functionOnly']);
const UNDEFINED_FUNCTION = '42883';

function validate(name: string, options: TenantReaderOptions, keys = OPTION_KEYS): void {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${name}: options must be an object`);
  for (const key of Object.keys(options)) {
    if (!keys.has(key)) throw new TypeError(`${name}: unknown option "${key}"`);
  }
  for (const key of ['role', 'tenant'] as const) {
    if (typeof options[key] !== 'string' || options[key].length === 0)
      throw new TypeError(`${name}: ${key} must be a non-empty string`);
  }
}

function requirePostgres(name: string, store: AuditStore): void {
  if (store.kind !== 'postgres') {
    throw new AitrailError(
      'READERS_NEED_POSTGRES',
      `${name}: per-tenant readers are database roles; the embedded store has none (use Postgres)`,
    );
  }
}

/** Turns "function does not exist" into the advice to migrate; other errors pass through. */
function explain(error: unknown): unknown {
  if ((error as { code?: unknown })?.code === UNDEFINED_FUNCTION) {
    return new AitrailError(
      'MIGRATION_PENDING',
      'the reader mapping is not installed: run `aitrail migrate` (migration 0006) first',
      { cause: error },
    );
  }
  return error;
}

/**
 * Lets `role` read `tenant`'s rows of audit_logs, and only the tenants mapped to it, whatever
 * it sets (`aitrail.tenant_id` is ignored for a mapped role). Run as the tables' owner.
 */
export async function grantTenantReader(
  store: AuditStore,
  options: GrantTenantReaderOptions,
): Promise<void> {
  validate('grantTenantReader', options, GRANT_OPTION_KEYS);
  if (options.functionOnly !== undefined && typeof options.functionOnly !== 'boolean')
    throw new TypeError('grantTenantReader: functionOnly must be a boolean');
  requirePostgres('grantTenantReader', store);
  await store
    .query('SELECT aitrail_grant_reader($1, $2, $3)', [
      options.role,
      options.tenant,
      options.functionOnly === true,
    ])
    .catch((error: unknown) => {
      throw explain(error);
    });
}

/**
 * Removes one tenant from `role`'s mapping; with its last tenant the role also loses SELECT on
 * audit_logs. Resolves to the number of tenants it still reads.
 */
export async function revokeTenantReader(
  store: AuditStore,
  options: TenantReaderOptions,
): Promise<number> {
  validate('revokeTenantReader', options);
  requirePostgres('revokeTenantReader', store);
  const [row] = await store
    .query<{ remaining: number }>('SELECT aitrail_revoke_reader($1, $2) AS remaining', [
      options.role,
      options.tenant,
    ])
    .catch((error: unknown) => {
      throw explain(error);
    });
  return Number(row?.remaining ?? 0);
}

/** The mapping, for one role or all of them (needs the owner or the auditor). */
export async function listTenantReaders(
  store: AuditStore,
  options: { role?: string } = {},
): Promise<TenantReaderGrant[]> {
  requirePostgres('listTenantReaders', store);
  return store.query<TenantReaderGrant>(
    `SELECT role_name AS role, tenant_id AS tenant,
       to_char(granted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "grantedAt"
     FROM audit_reader_tenants WHERE $1::text IS NULL OR role_name = $1 ORDER BY role_name, tenant_id`,
    [options.role ?? null],
  );
}
