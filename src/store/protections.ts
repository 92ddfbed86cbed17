import { AitrailError } from '../errors.js';

/** Runs one catalog query and returns its rows. */
export type CatalogQuery = <T extends object>(text: string) => Promise<T[]>;

/** The audit tables whose rows must never change; `audit_logs` may be partitioned. */
const APPEND_ONLY_TABLES = ['audit_logs', 'audit_checkpoints'] as const;
/** Tables whose RLS must be enabled and forced (policies live on the parent). */
const FORCED_RLS_TABLES = ['audit_logs', 'audit_checkpoints'] as const;
/** Policies aitrail's migrations create; any other permissive SELECT policy widens access. */
const EXPECTED_POLICIES: Record<string, readonly string[]> = {
  audit_logs: ['audit_logs_tenant_read', 'audit_logs_insert'],
  audit_checkpoints: ['audit_checkpoints_insert'],
};
/** The personal-data vault (migration 0004): erased only, never truncated, tenant-isolated. */
const VAULT = 'audit_personal_data';
const VAULT_POLICIES = ['audit_personal_data_tenant_read', 'audit_personal_data_insert'] as const;
const WRITE_PRIVILEGES = ['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE'];
const REMOVE_PRIVILEGES = ['UPDATE', 'DELETE', 'TRUNCATE'];

// pg_trigger.tgtype bits (src/include/catalog/pg_trigger.h).
const TRIGGER_BEFORE = 2;
const TRIGGER_DELETE = 8;
const TRIGGER_UPDATE = 16;
const TRIGGER_TRUNCATE = 32;

interface RelationRow {
  name: string;
  parent: string | null;
  partitioned: boolean;
  rls: boolean;
  forced: boolean;
}
interface TriggerRow {
  table: string;
  name: string;
  type: number;
  enabled: string;
  function: string;
}
interface PolicyRow {
  table: string;
  name: string;
  command: string;
  permissive: boolean;
}
interface GrantRow {
  table: string;
  grantee: string;
  privilege: string;
}

/**
 * The audit tables and every partition below `audit_logs` (pg_partition_tree lists nothing for
 * a plain table), with their RLS flags.
 */
const RELATIONS_SQL = `
  WITH targets AS (
    SELECT 'audit_logs'::regclass AS relid, NULL::regclass AS parentrelid
    UNION ALL SELECT relid, parentrelid FROM pg_partition_tree('audit_logs'::regclass)
      WHERE relid <> 'audit_logs'::regclass
    UNION ALL SELECT 'audit_checkpoints'::regclass, NULL
    UNION ALL SELECT to_regclass('audit_reader_tenants'), NULL
    UNION ALL SELECT to_regclass('audit_personal_data'), NULL
    UNION ALL SELECT relid, parentrelid FROM pg_partition_tree(to_regclass('audit_personal_data'))
      WHERE relid <> to_regclass('audit_personal_data')
  )
  SELECT c.relname AS name, p.relname AS parent, c.relkind = 'p' AS partitioned,
         c.relrowsecurity AS rls, c.relforcerowsecurity AS forced
  FROM targets t JOIN pg_class c ON c.oid = t.relid LEFT JOIN pg_class p ON p.oid = t.parentrelid`;

const TARGET_OIDS = `(
  SELECT 'audit_logs'::regclass
  UNION ALL SELECT relid FROM pg_partition_tree('audit_logs'::regclass)
  UNION ALL SELECT 'audit_checkpoints'::regclass
  UNION ALL SELECT to_regclass('audit_reader_tenants')
  UNION ALL SELECT relid FROM pg_partition_tree(to_regclass('audit_personal_data')))`;

const TRIGGERS_SQL = `
  SELECT c.relname AS "table", t.tgname AS name, t.tgtype::int AS type, t.tgenabled::text AS enabled,
         f.proname AS function
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc f ON f.oid = t.tgfoid
  WHERE NOT t.tgisinternal AND t.tgrelid IN ${TARGET_OIDS}`;

const POLICIES_SQL = `
  SELECT c.relname AS "table", p.polname AS name, p.polcmd::text AS command,
         p.polpermissive AS permissive
  FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
  WHERE p.polrelid IN ${TARGET_OIDS}`;

/** Privileges held by anyone but the table's owner (grantee 0 is PUBLIC). */
const GRANTS_SQL = `
  SELECT c.relname AS "table", COALESCE(r.rolname, 'PUBLIC') AS grantee, a.privilege_type AS privilege
  FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
  WHERE c.oid IN ${TARGET_OIDS} AND a.grantee <> c.relowner`;

const EXISTS_SQL = `SELECT to_regclass('audit_logs') IS NOT NULL AS logs,
  to_regclass('audit_checkpoints') IS NOT NULL AS checkpoints,
  to_regclass('audit_reader_tenants') IS NOT NULL AS readers,
  to_regclass('audit_personal_data') IS NOT NULL AS vault`;

/** A protection aitrail relies on is absent; `missing` names each one. */
export class ProtectionsMissingError extends AitrailError {
  constructor(
    readonly location: string,
    readonly missing: readonly string[],
  ) {
    super(
      missing.some((m) => m.endsWith(' does not exist')) ? 'TABLES_MISSING' : 'PROTECTIONS_MISSING',
      `the audit tables at ${location} are not protected: ${missing.join('; ')}. ` +
        (missing.some((m) => m.endsWith(' does not exist'))
          ? 'Run `aitrail migrate` as the role that owns the schema.'
          : 'Something outside aitrail changed them (drizzle-kit push without tablesFilter?): ' +
            'run `aitrail migrate --reinstall-protections` as the owner.'),
    );
    this.name = 'ProtectionsMissingError';
  }
}

/**
 * Lists what is missing of aitrail's protections: append-only and no-truncate triggers
 * present and enabled on both tables and on every partition of `audit_logs`, RLS enabled and
 * forced there, no unexpected permissive policy, and no role but the owner able to change or
 * remove rows (partitions and the reader mapping take no writes from anyone but the owner).
 */
export async function findMissingProtections(query: CatalogQuery): Promise<string[]> {
  const [exists] = await query<{
    logs: boolean;
    checkpoints: boolean;
    readers: boolean;
    vault: boolean;
  }>(EXISTS_SQL);
  const missing: string[] = [];
  if (!exists?.logs) missing.push('table audit_logs does not exist');
  if (!exists?.checkpoints) missing.push('table audit_checkpoints does not exist');
  if (missing.length > 0) return missing;
  // The reader mapping the policy consults (a push without tablesFilter drops it).
  if (!exists?.readers) missing.push('table audit_reader_tenants (reader mapping)');

  const relations = await query<RelationRow>(RELATIONS_SQL);
  const triggers = await query<TriggerRow>(TRIGGERS_SQL);
  const policies = await query<PolicyRow>(POLICIES_SQL);
  const grants = await query<GrantRow>(GRANTS_SQL);

  const partitions = relations.filter((r) => r.parent === 'audit_logs');
  const vaultPartitions = relations.filter((r) => r.parent === VAULT);
  const coverage = (table: string) => {
    const own = triggers.filter(
      (t) =>
        t.table === table &&
        (t.enabled === 'O' || t.enabled === 'A') &&
        t.function.startsWith('aitrail_') &&
        (t.type & TRIGGER_BEFORE) !== 0,
    );
    const disabled = triggers.filter(
      (t) => t.table === table && t.function.startsWith('aitrail_') && !own.includes(t),
    );
    return {
      covers: (bit: number) => own.some((t) => (t.type & bit) !== 0),
      note: disabled.length > 0 ? ` (${disabled.map((t) => t.name).join(', ')} disabled)` : '',
    };
  };
  const appendOnly = [...APPEND_ONLY_TABLES, ...partitions.map((p) => p.name)];
  for (const table of appendOnly) {
    const { covers, note } = coverage(table);
    if (!covers(TRIGGER_UPDATE) || !covers(TRIGGER_DELETE))
      missing.push(`append-only trigger (UPDATE, DELETE) on ${table}${note}`);
    if (!covers(TRIGGER_TRUNCATE)) missing.push(`no-truncate trigger on ${table}${note}`);
  }
  // The vault: its values are only ever erased (the guard on UPDATE), never truncated.
  if (exists?.vault) {
    const { covers, note } = coverage(VAULT);
    if (!covers(TRIGGER_UPDATE)) missing.push(`erase-only trigger on ${VAULT}${note}`);
    if (!covers(TRIGGER_TRUNCATE)) missing.push(`no-truncate trigger on ${VAULT}${note}`);
    for (const partition of vaultPartitions) {
      const own = coverage(partition.name);
      if (!own.covers(TRIGGER_TRUNCATE))
        missing.push(`no-truncate trigger on ${partition.name}${own.note}`);
    }
  }

  const forced = [
    ...FORCED_RLS_TABLES,
    ...partitions.map((p) => p.name),
    ...vaultPartitions.map((p) => p.name),
  ];
  for (const table of forced) {
    const relation = relations.find((r) => r.name === table);
    if (!relation?.rls) missing.push(`row-level security enabled on ${table}`);
    if (!relation?.forced) missing.push(`row-level security forced on ${table}`);
  }
  // Not forced on the vault parent: its owner runs erasure.
  if (exists?.vault && !relations.find((r) => r.name === VAULT)?.rls)
    missing.push(`row-level security enabled on ${VAULT}`);

  const expectedPolicies: Record<string, readonly string[]> = exists?.vault
    ? { ...EXPECTED_POLICIES, [VAULT]: VAULT_POLICIES }
    : EXPECTED_POLICIES;
  for (const [table, names] of Object.entries(expectedPolicies)) {
    for (const name of names) {
      if (!policies.some((p) => p.table === table && p.name === name))
        missing.push(`policy ${name} on ${table}`);
    }
    for (const extra of policies.filter(
      (p) =>
        p.table === table &&
        !names.includes(p.name) &&
        p.permissive &&
        (p.command === 'r' || p.command === '*'),
    )) {
      missing.push(`no other permissive read policy on ${table} (found ${extra.name})`);
    }
  }

  const partitionNames = new Set([...partitions, ...vaultPartitions].map((p) => p.name));
  for (const grant of grants) {
    const forbidden =
      partitionNames.has(grant.table) || grant.table === 'audit_reader_tenants'
        ? grant.table === 'audit_reader_tenants'
          ? WRITE_PRIVILEGES
          : [...WRITE_PRIVILEGES, 'SELECT']
        : REMOVE_PRIVILEGES;
    if (forbidden.includes(grant.privilege))
      missing.push(`no ${grant.privilege} on ${grant.table} for ${grant.grantee}`);
    if (
      grant.table === 'audit_checkpoints' &&
      grant.privilege === 'SELECT' &&
      grant.grantee === 'aitrail_reader'
    )
      missing.push('no SELECT on audit_checkpoints for aitrail_reader');
  }
  return missing;
}

/** Throws `ProtectionsMissingError` naming everything missing; resolves when all is in place. */
export async function assertProtections(query: CatalogQuery, location: string): Promise<void> {
  const missing = await findMissingProtections(query);
  if (missing.length > 0) throw new ProtectionsMissingError(location, missing);
}
