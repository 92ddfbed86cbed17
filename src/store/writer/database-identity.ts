import type { WriterStore } from '../audit-store.js';

/**
 * Which database a journal was written for. The location (URL without password, or PGlite
 * folder) is known before the database answers; the identity only once it does: the cluster's
 * `system_identifier` (from `pg_control_system()`, fixed at initdb) and the database's name
 * and oid. A test cluster and a production one on the same `localhost:5432`, or a database
 * dropped and created again under its old name, differ here.
 */
export interface DatabaseIdentity {
  /** Null when the role may not call `pg_control_system()`; then name and oid decide. */
  systemIdentifier: string | null;
  database: string;
  databaseOid: string;
}

const WITH_SYSTEM_ID = `select (select system_identifier::text from pg_control_system()) as system_identifier,
  current_database() as database,
  (select oid::text from pg_database where datname = current_database()) as database_oid`;
const WITHOUT_SYSTEM_ID = `select null as system_identifier, current_database() as database,
  (select oid::text from pg_database where datname = current_database()) as database_oid`;

interface IdentityRow {
  system_identifier: string | null;
  database: string;
  database_oid: string;
}

export async function readDatabaseIdentity(store: WriterStore): Promise<DatabaseIdentity> {
  let rows: IdentityRow[];
  try {
    rows = await store.query<IdentityRow>(WITH_SYSTEM_ID);
  } catch (error) {
    // Only "permission denied" falls back; a connection error is for the caller's retry.
    if ((error as { code?: unknown }).code !== '42501') throw error;
    rows = await store.query<IdentityRow>(WITHOUT_SYSTEM_ID);
  }
  const row = rows[0] as IdentityRow;
  return {
    systemIdentifier: row.system_identifier,
    database: row.database,
    databaseOid: row.database_oid,
  };
}

export function sameDatabase(a: DatabaseIdentity, b: DatabaseIdentity): boolean {
  if (a.systemIdentifier !== null && b.systemIdentifier !== null) {
    if (a.systemIdentifier !== b.systemIdentifier) return false;
  }
  return a.database === b.database && a.databaseOid === b.databaseOid;
}

export function describeDatabase(identity: DatabaseIdentity): string {
  const cluster = identity.systemIdentifier ? ` of cluster ${identity.systemIdentifier}` : '';
  return `database "${identity.database}" (oid ${identity.databaseOid})${cluster}`;
}
