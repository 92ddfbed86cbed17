// The drizzle side of the compliance queries: selections, filter conditions and the keyset row
// scan. Internal: `aitrail/store` re-exports `queries.ts`, whose declarations must not load
// drizzle-orm's, so nothing drizzle-typed is exported from there.
import { and, asc, desc, eq, gte, inArray, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { AuditDatabase, AuditStore } from '../audit-store.js';
import {
  byActor,
  bySubject,
  PERSONAL_JOIN,
  PERSONAL_SELECTION,
  readBack,
} from '../erasure/personal-view.js';
import type { AuditLogEntry, AuditLogFilter } from '../queries.js';
import { auditLogs, auditPersonalData } from '../schema.js';

export const DEFAULT_PAGE_SIZE = 1_000;

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
