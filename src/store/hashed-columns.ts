import type { SealedAuditRecord } from './audit-record.js';

/**
 * How rows are hashed. Version 1: the release before tree heads (no `subject_id`). Version 2:
 * `subject_id` is hashed too, and the chain's rows are the leaves of a Merkle tree whose heads
 * are signed checkpoints, starting with a genesis head. A chain's version is fixed by its genesis.
 */
export type HashVersion = 1 | 2;
export const CURRENT_HASH_VERSION: HashVersion = 2;

/**
 * The hashed columns, declared once. The canonical (sorted) order, the insert column lists,
 * verify's SELECT and the docs table all derive from this list. `recorded_at` (set by the
 * database) and `prev_hash`/`hash` themselves are not covered; `prev_hash` is chained in front.
 */
export const HASHED_COLUMNS = [
  { column: 'id', property: 'id', sqlType: 'uuid', since: 1, doc: 'row id (UUIDv7)' },
  { column: 'event_id', property: 'eventId', sqlType: 'text', since: 1, doc: 'idempotency key' },
  {
    column: 'occurred_at',
    property: 'occurredAt',
    sqlType: 'timestamptz',
    since: 1,
    doc: 'ISO 8601 UTC, microseconds',
  },
  { column: 'tenant_id', property: 'tenantId', sqlType: 'text', since: 1, doc: 'tenant' },
  { column: 'actor_type', property: 'actorType', sqlType: 'text', since: 1, doc: 'actor type' },
  { column: 'actor_id', property: 'actorId', sqlType: 'text', since: 1, doc: 'actor id' },
  { column: 'action', property: 'action', sqlType: 'text', since: 1, doc: 'audit action' },
  { column: 'outcome', property: 'outcome', sqlType: 'text', since: 1, doc: 'outcome' },
  {
    column: 'resource_type',
    property: 'resourceType',
    sqlType: 'text',
    since: 1,
    doc: 'resource type',
  },
  { column: 'resource_id', property: 'resourceId', sqlType: 'text', since: 1, doc: 'resource id' },
  {
    column: 'conversation_id',
    property: 'conversationId',
    sqlType: 'text',
    since: 1,
    doc: 'conversation',
  },
  { column: 'task_id', property: 'taskId', sqlType: 'text', since: 1, doc: 'task' },
  { column: 'agent_name', property: 'agentName', sqlType: 'text', since: 1, doc: 'agent' },
  { column: 'tool_name', property: 'toolName', sqlType: 'text', since: 1, doc: 'tool' },
  { column: 'approval_id', property: 'approvalId', sqlType: 'text', since: 1, doc: 'approval' },
  {
    column: 'metadata',
    property: 'metadataJson',
    sqlType: 'jsonb',
    since: 1,
    doc: 'canonical JSON text of the metadata',
  },
  { column: 'trace_id', property: 'traceId', sqlType: 'text', since: 1, doc: 'trace id' },
  { column: 'span_id', property: 'spanId', sqlType: 'text', since: 1, doc: 'span id' },
  {
    column: 'service_name',
    property: 'serviceName',
    sqlType: 'text',
    since: 1,
    doc: 'service name',
  },
  { column: 'subject_id', property: 'subjectId', sqlType: 'text', since: 2, doc: 'data subject' },
  { column: 'chain_id', property: 'chainId', sqlType: 'text', since: 1, doc: 'writer chain' },
  {
    column: 'chain_seq',
    property: 'chainSeq',
    sqlType: 'int8',
    since: 1,
    doc: 'position in the chain (1-based)',
  },
] as const satisfies ReadonlyArray<{
  column: string;
  property: keyof SealedAuditRecord;
  sqlType: 'uuid' | 'text' | 'timestamptz' | 'jsonb' | 'int8';
  since: HashVersion;
  doc: string;
}>;

export type HashedColumn = (typeof HASHED_COLUMNS)[number];
export type HashedColumnName = HashedColumn['column'];

/** The hashed fields of one row by column name (metadata as its canonical JSON text). */
export type HashedFields = {
  [C in HashedColumn as C['column']]: Exclude<SealedAuditRecord[C['property']], undefined>;
};

const byColumnName = (a: HashedColumn, b: HashedColumn) =>
  a.column < b.column ? -1 : a.column > b.column ? 1 : 0;

/** Hashed columns of a version, in canonical (UTF-16 sorted) order. */
export function canonicalColumns(version: HashVersion): readonly HashedColumn[] {
  return HASHED_COLUMNS.filter((c) => c.since <= version).sort(byColumnName);
}

/** The SELECT expression verify reads a hashed column with, in the text form that was hashed. */
export function selectExpression(c: HashedColumn): string {
  switch (c.sqlType) {
    case 'uuid':
      return `${c.column}::text AS ${c.column}`;
    case 'timestamptz':
      return `to_char(${c.column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${c.column}`;
    case 'jsonb':
      return `${c.column}::text AS ${c.column}`;
    default:
      return c.column;
  }
}
