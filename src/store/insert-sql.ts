import type { CheckpointRecord, SealedAuditRecord } from './audit-record.js';
import { HASHED_COLUMNS } from './hashed-columns.js';

/** Column order shared by the COPY and `unnest` insert paths: the hashed columns, then the links. */
export const AUDIT_LOG_COLUMNS = [
  ...HASHED_COLUMNS.map((c) => c.column),
  'prev_hash',
  'hash',
] as const;

const COLUMN_TYPES: Record<string, string> = {
  ...Object.fromEntries(HASHED_COLUMNS.map((c) => [c.column, c.sqlType])),
  prev_hash: 'text',
  hash: 'text',
};

/**
 * One statement for any batch size: each column travels as one array parameter, so the
 * bind-parameter cap (65534) never limits the batch. Arrays are sent as text[] and cast in
 * SQL, so no driver-side array serializer (which drizzle replaces for date types) is involved.
 */
export const UNNEST_INSERT_SQL = `INSERT INTO audit_logs (${AUDIT_LOG_COLUMNS.join(', ')})
SELECT ${AUDIT_LOG_COLUMNS.map((c) => (COLUMN_TYPES[c] === 'text' ? c : `${c}::${COLUMN_TYPES[c]}`)).join(', ')}
FROM unnest(${AUDIT_LOG_COLUMNS.map((_, i) => `$${i + 1}::text[]`).join(', ')})
  AS batch(${AUDIT_LOG_COLUMNS.join(', ')})
ON CONFLICT (event_id) DO NOTHING`;

export type ColumnValue = string | number | null;

/** The row's values in `AUDIT_LOG_COLUMNS` order; metadata as its canonical JSON text. */
export function rowValues(r: SealedAuditRecord): ColumnValue[] {
  const values: ColumnValue[] = new Array(HASHED_COLUMNS.length + 2);
  for (let i = 0; i < HASHED_COLUMNS.length; i++)
    values[i] = r[(HASHED_COLUMNS[i] as (typeof HASHED_COLUMNS)[number]).property] ?? null;
  values[HASHED_COLUMNS.length] = r.prevHash;
  values[HASHED_COLUMNS.length + 1] = r.hash;
  return values;
}

/** Column-major arrays for the `unnest` statement. */
export function unnestParameters(
  records: readonly SealedAuditRecord[],
): Array<Array<string | null>> {
  const columns: Array<Array<string | null>> = AUDIT_LOG_COLUMNS.map(
    () => new Array(records.length),
  );
  records.forEach((record, row) => {
    rowValues(record).forEach((value, column) => {
      (columns[column] as Array<string | null>)[row] =
        typeof value === 'number' ? String(value) : value;
    });
  });
  return columns;
}

/** Checkpoint values in `INSERT_CHECKPOINT_SQL` order. */
export function checkpointValues(c: CheckpointRecord): unknown[] {
  return [
    c.chainId,
    c.chainSeq,
    c.headHash,
    c.createdAt,
    c.serviceName,
    c.algorithm,
    c.keyId,
    c.signature,
    c.final,
    c.kind,
    c.rootHash,
    c.prevCheckpointHash,
    c.hashVersion,
  ];
}

export const INSERT_CHECKPOINT_SQL = `INSERT INTO audit_checkpoints
  (chain_id, chain_seq, head_hash, created_at, service_name, algorithm, key_id, signature, final,
   kind, root_hash, prev_checkpoint_hash, hash_version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (chain_id, chain_seq, final) DO NOTHING`;
