import type { CheckpointRecord, SealedAuditRecord } from './audit-record.js';
import { canonicalJson } from './canonical-json.js';
import { canonicalPersonal, plaintextValues } from './erasure/personal-fields.js';
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

/** Vault columns (`audit_personal_data`), shared by the COPY and `unnest` paths. */
export const VAULT_COLUMNS = [
  'row_id',
  'occurred_at',
  'tenant_id',
  'subject_id',
  'actor_id',
  'personal',
  'salts',
] as const;

const VAULT_TYPES: Record<(typeof VAULT_COLUMNS)[number], string> = {
  row_id: 'uuid',
  occurred_at: 'timestamptz',
  tenant_id: 'text',
  subject_id: 'text',
  actor_id: 'text',
  personal: 'jsonb',
  salts: 'jsonb',
};

const BATCH_COLUMNS = [...AUDIT_LOG_COLUMNS, ...VAULT_COLUMNS.map((c) => `v_${c}`)];
const cast = (column: string, type: string) => (type === 'text' ? column : `${column}::${type}`);

/**
 * One statement for any batch size: each column travels as one array parameter, so the
 * bind-parameter cap (65534) never limits the batch. Arrays are sent as text[] and cast in
 * SQL, so no driver-side array serializer (which drizzle replaces for date types) is involved.
 * The chained rows and their vault rows go in together; both idempotently, so a replay also
 * completes a vault write that a crash interrupted. Returns the number of new audit rows.
 */
export const UNNEST_INSERT_SQL = `WITH batch AS (
  SELECT * FROM unnest(${BATCH_COLUMNS.map((_, i) => `$${i + 1}::text[]`).join(', ')})
    AS b(${BATCH_COLUMNS.join(', ')})
), inserted AS (
  INSERT INTO audit_logs (${AUDIT_LOG_COLUMNS.join(', ')})
  SELECT ${AUDIT_LOG_COLUMNS.map((c) => cast(c, COLUMN_TYPES[c] as string)).join(', ')} FROM batch
  ON CONFLICT (event_id, occurred_at) DO NOTHING
  RETURNING 1
), vault AS (
  INSERT INTO audit_personal_data (${VAULT_COLUMNS.join(', ')})
  SELECT ${VAULT_COLUMNS.map((c) => cast(`v_${c}`, VAULT_TYPES[c])).join(', ')} FROM batch
  ON CONFLICT (row_id, occurred_at) DO NOTHING
)
SELECT count(*)::int AS inserted FROM inserted`;

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

/** The vault row's values in `VAULT_COLUMNS` order; jsonb as canonical JSON text. */
export function vaultValues(r: SealedAuditRecord): ColumnValue[] {
  const p = r.personal ?? plaintextValues(r);
  return [
    r.id,
    r.occurredAt,
    r.tenantId,
    p.subjectId,
    p.actorId,
    canonicalPersonal(p),
    p.salts === null ? null : canonicalJson(p.salts),
  ];
}

/** Column-major arrays for the `unnest` statement: the audit columns, then the vault's. */
export function unnestParameters(
  records: readonly SealedAuditRecord[],
): Array<Array<string | null>> {
  const columns: Array<Array<string | null>> = BATCH_COLUMNS.map(() => new Array(records.length));
  const audit = AUDIT_LOG_COLUMNS.length;
  records.forEach((record, row) => {
    rowValues(record).forEach((value, column) => {
      (columns[column] as Array<string | null>)[row] =
        typeof value === 'number' ? String(value) : value;
    });
    vaultValues(record).forEach((value, column) => {
      (columns[audit + column] as Array<string | null>)[row] =
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
