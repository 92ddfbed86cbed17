import { and, eq, type SQL } from 'drizzle-orm';
import type { AiAuditMetadata } from '../metadata.js';
import { auditLogs, auditPersonalData } from '../schema.js';
import { ERASED, PERSONAL_COMMITMENT_KEY } from './personal-fields.js';

/**
 * Reading rows back with their personal values: the vault joined on the chained row's key,
 * and commitments replaced by values, or by `[ERASED]` where an erasure removed them. Every
 * query that shows rows to a person goes through here.
 */
export const PERSONAL_SELECTION = {
  vaultRowId: auditPersonalData.rowId,
  vaultSubjectId: auditPersonalData.subjectId,
  vaultActorId: auditPersonalData.actorId,
  vaultPersonal: auditPersonalData.personal,
  vaultSalts: auditPersonalData.salts,
  erasedBy: auditPersonalData.erasedBy,
};

/** `audit_logs LEFT JOIN audit_personal_data ON` this: the partition-wise primary keys. */
export const PERSONAL_JOIN: SQL = and(
  eq(auditPersonalData.rowId, auditLogs.id),
  eq(auditPersonalData.occurredAt, auditLogs.occurredAt),
) as SQL;

/** Rows whose actor is `actorId`, through the vault's index. */
export function byActor(actorId: string): SQL {
  return eq(auditPersonalData.actorId, actorId);
}

/** Rows about the data subject `subjectId`, through the vault's index. */
export function bySubject(subjectId: string): SQL {
  return eq(auditPersonalData.subjectId, subjectId);
}

interface JoinedRow {
  actorId: string;
  subjectId: string | null;
  metadata: AiAuditMetadata;
  vaultRowId: string | null;
  vaultSubjectId: string | null;
  vaultActorId: string | null;
  vaultPersonal: Record<string, unknown> | null;
  vaultSalts: Record<string, string> | null;
  erasedBy: string | null;
}

/** What a reader sees of one row: its values, and which erasure removed any of them. */
export type ReadBack<T> = Omit<T, keyof typeof PERSONAL_SELECTION> & { erasedBy: string | null };

export function readBack<T extends JoinedRow>(row: T): ReadBack<T> {
  const {
    vaultRowId,
    vaultSubjectId,
    vaultActorId,
    vaultPersonal,
    vaultSalts,
    erasedBy,
    ...chained
  } = row;
  // No vault row, or values kept in plain text in the chain (rows from before 0004): as stored.
  if (vaultRowId === null || vaultSalts === null) return { ...chained, erasedBy };
  const metadata: AiAuditMetadata = { ...chained.metadata };
  const committedPersonal = metadata[PERSONAL_COMMITMENT_KEY] !== undefined;
  delete metadata[PERSONAL_COMMITMENT_KEY];
  if (vaultPersonal !== null) Object.assign(metadata, vaultPersonal);
  else if (committedPersonal) metadata[PERSONAL_COMMITMENT_KEY] = ERASED;
  if (erasedBy !== null) metadata.erasure = { receiptId: erasedBy };
  return {
    ...chained,
    actorId: vaultActorId ?? ERASED,
    subjectId: chained.subjectId === null ? null : (vaultSubjectId ?? ERASED),
    metadata,
    erasedBy,
  };
}

/** Whether an erasure removed a read-back row's personal metadata (`metadata.personal`). */
export function personalErased(metadata: AiAuditMetadata | null | undefined): boolean {
  return metadata?.[PERSONAL_COMMITMENT_KEY] === ERASED;
}

/**
 * One personal metadata value of a read-back row: the value, or `[ERASED]` when it is absent
 * because an erasure removed the row's personal values; undefined when the row never had it.
 */
export function personalValue(metadata: AiAuditMetadata | null | undefined, key: string): unknown {
  const value = metadata?.[key];
  if (value !== undefined) return value;
  return personalErased(metadata) ? ERASED : undefined;
}
