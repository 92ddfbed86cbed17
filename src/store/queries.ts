import { and, asc, desc, eq, gte, inArray, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { SealedAuditRecord } from './audit-record.js';
import type { AuditDatabase, AuditStore } from './audit-store.js';
import {
  byActor,
  bySubject,
  PERSONAL_JOIN,
  PERSONAL_SELECTION,
  readBack,
} from './erasure/personal-view.js';
import {
  checkReadOptions,
  type ReadEvent,
  type ReadOptions,
  recordRead,
} from './reads/record-read.js';
import { auditLogs, auditPersonalData } from './schema.js';

export interface AuditLogFilter {
  /** One action or several. */
  action?: string | string[];
  actorId?: string;
  /** The data subject: `subject_id`, or the actor of rows without one when the actor is a user. */
  subjectId?: string;
  /** Scopes the query to one tenant, also through row-level security (`aitrail.tenant_id`). */
  tenantId?: string;
  conversationId?: string;
  traceId?: string;
  toolName?: string;
  approvalId?: string;
  agentName?: string;
  taskId?: string;
  /** `success`, `failure` or `denied` (or several). */
  outcome?: string | string[];
  resourceType?: string;
  resourceId?: string;
  serviceName?: string;
  /** Inclusive lower bound on `occurred_at`. */
  since?: Date | string;
  /** Inclusive upper bound on `occurred_at`. */
  until?: Date | string;
  /** Exclusive upper bound on `occurred_at` (the end of a period). */
  before?: Date | string;
  /** Default 100, at most 10,000 for `queryAuditLogs`; no default (all rows) for `streamAuditLogs`. */
  limit?: number;
  /** Default `desc` (newest first). */
  order?: 'asc' | 'desc';
  /** Include `audit.read` rows (who read the trail) without naming the action. Default false. */
  includeReads?: boolean;
}

/**
 * One audit row, camelCase, timestamps as ISO 8601 UTC strings with microseconds, personal
 * values read back from the vault (`[ERASED]` where an erasure removed them).
 */
export type AuditLogEntry = Omit<SealedAuditRecord, 'metadataJson' | 'personal'> & {
  /** When the database stored the row (its default `now()`). */
  recordedAt: string;
  subjectId: string | null;
  /** The receipt of the erasure that removed personal values of this row, if any. */
  erasedBy: string | null;
};

const FILTER_KEYS: ReadonlySet<string> = new Set([
  'action',
  'actorId',
  'subjectId',
  'tenantId',
  'conversationId',
  'traceId',
  'toolName',
  'approvalId',
  'agentName',
  'taskId',
  'outcome',
  'resourceType',
  'resourceId',
  'serviceName',
  'since',
  'until',
  'before',
  'limit',
  'order',
  'includeReads',
]);
export const MAX_QUERY_LIMIT = 10_000;
const DEFAULT_PAGE_SIZE = 1_000;

export function isoMicros(column: AnyPgColumn | SQL): SQL<string> {
  return sql<string>`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

export const ENTRY_SELECTION = {
  id: auditLogs.id,
  eventId: auditLogs.eventId,
  occurredAt: isoMicros(auditLogs.occurredAt),
  recordedAt: isoMicros(auditLogs.recordedAt),
  tenantId: auditLogs.tenantId,
  actorType: auditLogs.actorType,
  actorId: auditLogs.actorId,
  subjectId: auditLogs.subjectId,
  action: auditLogs.action,
  outcome: auditLogs.outcome,
  resourceType: auditLogs.resourceType,
  resourceId: auditLogs.resourceId,
  conversationId: auditLogs.conversationId,
  taskId: auditLogs.taskId,
  agentName: auditLogs.agentName,
  toolName: auditLogs.toolName,
  approvalId: auditLogs.approvalId,
  metadata: auditLogs.metadata,
  traceId: auditLogs.traceId,
  spanId: auditLogs.spanId,
  serviceName: auditLogs.serviceName,
  chainId: auditLogs.chainId,
  chainSeq: auditLogs.chainSeq,
  prevHash: auditLogs.prevHash,
  hash: auditLogs.hash,
};

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A bound as Postgres should read it: an ISO string keeps its microseconds (a Date has
 * milliseconds only).
 */
export function toTimestamp(fn: string, name: string, value: Date | string): string {
  if (typeof value === 'string' && ISO_TIME.test(value) && !Number.isNaN(Date.parse(value))) {
    return value;
  }
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new TypeError(
      `${fn}: ${name} must be a Date or an ISO 8601 timestamp, got ${JSON.stringify(value)}`,
    );
  }
  return date.toISOString();
}

function oneOrMany(column: AnyPgColumn, value: string | string[]): SQL {
  const values = Array.isArray(value) ? value : [value];
  return values.length === 1 ? eq(column, values[0] as string) : inArray(column, values);
}

/**
 * Rows about a data subject: named as such, or (rows without a subject) a user acting. Read
 * through the personal-data vault (the chained row holds commitments only); rows from before
 * the vault keep their values in the chained row.
 */
export function subjectCondition(subjectId: string): SQL {
  return or(
    bySubject(subjectId),
    and(sql`${auditLogs.subjectId} is null`, eq(auditLogs.actorType, 'user'), byActor(subjectId)),
  ) as SQL;
}

export function filterConditions(fn: string, filter: AuditLogFilter): SQL[] {
  const where: SQL[] = [];
  const exact: Array<[keyof AuditLogFilter, AnyPgColumn]> = [
    ['tenantId', auditLogs.tenantId],
    ['conversationId', auditLogs.conversationId],
    ['toolName', auditLogs.toolName],
    ['approvalId', auditLogs.approvalId],
    ['agentName', auditLogs.agentName],
    ['taskId', auditLogs.taskId],
    ['resourceType', auditLogs.resourceType],
    ['resourceId', auditLogs.resourceId],
    ['serviceName', auditLogs.serviceName],
  ];
  if (filter.action !== undefined) where.push(oneOrMany(auditLogs.action, filter.action));
  else if (filter.includeReads !== true) where.push(sql`${auditLogs.action} <> 'audit.read'`);
  if (filter.outcome !== undefined) where.push(oneOrMany(auditLogs.outcome, filter.outcome));
  for (const [key, column] of exact) {
    const value = filter[key];
    if (value !== undefined) where.push(eq(column, value as string));
  }
  if (filter.actorId !== undefined) where.push(byActor(filter.actorId));
  if (filter.traceId !== undefined) where.push(eq(auditLogs.traceId, filter.traceId.toLowerCase()));
  if (filter.subjectId !== undefined) where.push(subjectCondition(filter.subjectId));
  if (filter.since !== undefined)
    where.push(gte(auditLogs.occurredAt, toTimestamp(fn, 'since', filter.since)));
  if (filter.until !== undefined)
    where.push(lte(auditLogs.occurredAt, toTimestamp(fn, 'until', filter.until)));
  if (filter.before !== undefined)
    where.push(lt(auditLogs.occurredAt, toTimestamp(fn, 'before', filter.before)));
  return where;
}

const STRING_KEYS = [
  'actorId',
  'tenantId',
  'conversationId',
  'traceId',
  'toolName',
  'approvalId',
  'agentName',
  'taskId',
  'subjectId',
  'resourceType',
  'resourceId',
  'serviceName',
] as const;

export function validateFilter(fn: string, filter: AuditLogFilter, maxLimit: number): void {
  if (filter === null || typeof filter !== 'object')
    throw new TypeError(`${fn}: filter must be an object`);
  for (const key of Object.keys(filter)) {
    if (!FILTER_KEYS.has(key)) throw new TypeError(`${fn}: unknown filter "${key}"`);
  }
  for (const key of STRING_KEYS) {
    const value = filter[key];
    if (value !== undefined && typeof value !== 'string')
      throw new TypeError(`${fn}: ${key} must be a string, got ${typeof value}`);
  }
  if (
    filter.limit !== undefined &&
    (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > maxLimit)
  ) {
    throw new TypeError(
      `${fn}: limit must be an integer from 1 to ${maxLimit}, got ${String(filter.limit)}`,
    );
  }
  if (filter.order !== undefined && filter.order !== 'asc' && filter.order !== 'desc') {
    throw new TypeError(
      `${fn}: order must be "asc" or "desc", got ${JSON.stringify(filter.order)}`,
    );
  }
}

/**
 * Runs `fn` in a transaction whose `aitrail.tenant_id` setting is `tenantId`, so row-level
 * security shows that tenant's rows only. Without a tenant the setting stays empty: a role
 * subject to RLS then sees nothing.
 */
export async function withTenant<T>(
  store: AuditStore,
  tenantId: string | undefined,
  fn: (db: AuditDatabase) => Promise<T>,
): Promise<T> {
  if (tenantId === undefined) return fn(store.db);
  return store.db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('aitrail.tenant_id', ${tenantId}, true)`);
    return fn(tx as unknown as AuditDatabase);
  });
}

interface Cursor {
  occurredAt: string;
  id: string;
}

/** Rows matching `where`, in pages on the unique order (occurred_at, id). */
export interface RowScan {
  where: SQL[];
  /** Sets `aitrail.tenant_id` for the transaction (row-level security). */
  tenantId?: string;
  order?: 'asc' | 'desc';
  limit?: number;
  pageSize?: number;
}

async function page(
  store: AuditStore,
  scan: RowScan,
  after: Cursor | undefined,
  size: number,
): Promise<AuditLogEntry[]> {
  const where = [...scan.where];
  const ascending = scan.order === 'asc';
  if (after) {
    const row = sql`(${auditLogs.occurredAt}, ${auditLogs.id})`;
    const bound = sql`(${after.occurredAt}::timestamptz, ${after.id}::uuid)`;
    where.push(ascending ? sql`${row} > ${bound}` : sql`${row} < ${bound}`);
  }
  const direction = ascending ? asc : desc;
  const rows = await withTenant(store, scan.tenantId, (db) =>
    db
      .select({ ...ENTRY_SELECTION, ...PERSONAL_SELECTION })
      .from(auditLogs)
      .leftJoin(auditPersonalData, PERSONAL_JOIN)
      .where(where.length > 0 ? and(...where) : undefined)
      .orderBy(direction(auditLogs.occurredAt), direction(auditLogs.id))
      .limit(size),
  );
  return rows.map((row) =>
    readBack({ ...row, chainSeq: Number(row.chainSeq) }),
  ) as unknown as AuditLogEntry[];
}

/** Every row of a scan, page by page (keyset, never offset). */
export async function* scanRows(store: AuditStore, scan: RowScan): AsyncGenerator<AuditLogEntry> {
  const pageSize = scan.pageSize ?? DEFAULT_PAGE_SIZE;
  let remaining = scan.limit ?? Number.POSITIVE_INFINITY;
  let cursor: Cursor | undefined;
  while (remaining > 0) {
    const size = Math.min(pageSize, remaining);
    const rows = await page(store, scan, cursor, size);
    for (const row of rows) yield row;
    remaining -= rows.length;
    if (rows.length < size) return;
    const last = rows[rows.length - 1] as AuditLogEntry;
    cursor = { occurredAt: last.occurredAt, id: last.id };
  }
}

/** Compliance queries over `audit_logs`: filters map onto the table's indexes. At most 10,000 rows. */
export async function queryAuditLogs(
  store: AuditStore,
  filter: AuditLogFilter = {},
): Promise<AuditLogEntry[]> {
  validateFilter('queryAuditLogs', filter, MAX_QUERY_LIMIT);
  const rows: AuditLogEntry[] = [];
  const limit = filter.limit ?? 100;
  for await (const row of scanRows(store, {
    where: filterConditions('queryAuditLogs', filter),
    tenantId: filter.tenantId,
    order: filter.order,
    limit,
    pageSize: limit,
  }))
    rows.push(row);
  return rows;
}

export interface StreamOptions extends ReadOptions {
  /** Rows per keyset page; default 1,000. */
  pageSize?: number;
}

/**
 * Every matching row, in pages, with no cap: a keyset cursor on the unique order
 * (occurred_at, id), never an offset, so rows sharing a timestamp are neither repeated nor
 * skipped and a deep page costs what the first one does.
 */
export function streamAuditLogs(
  store: AuditStore,
  filter: AuditLogFilter = {},
  options: StreamOptions = {},
): AsyncGenerator<AuditLogEntry> {
  validateFilter('streamAuditLogs', filter, Number.MAX_SAFE_INTEGER);
  const { pageSize: _, ...read } = options;
  checkReadOptions('streamAuditLogs', read);
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_QUERY_LIMIT) {
    throw new TypeError(
      `streamAuditLogs: pageSize must be an integer from 1 to ${MAX_QUERY_LIMIT}`,
    );
  }
  const rows = scanRows(store, {
    where: filterConditions('streamAuditLogs', filter),
    tenantId: filter.tenantId,
    order: filter.order,
    limit: filter.limit,
    pageSize,
  });
  return recordedScan(store, rows, { query: 'logs', filter, tenantId: filter.tenantId }, read);
}

/** Yields the rows, then (also when the caller stops early) records the read with its count. */
export async function* recordedScan<R>(
  store: AuditStore,
  rows: AsyncIterable<R>,
  event: Omit<ReadEvent, 'rows' | 'filter'> & { filter: object },
  options: ReadOptions,
): AsyncGenerator<R> {
  let count = 0;
  try {
    for await (const row of rows) {
      count++;
      yield row;
    }
  } finally {
    await recordRead(
      store,
      { ...event, filter: event.filter as Record<string, unknown>, rows: count },
      options,
    );
  }
}
