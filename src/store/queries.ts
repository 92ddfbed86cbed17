import { and, asc, desc, eq, gte, inArray, lte, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { SealedAuditRecord } from './audit-record.js';
import type { AuditDatabase, AuditStore } from './audit-store.js';
import { auditLogs } from './schema.js';

export interface AuditLogFilter {
  /** One action or several. */
  action?: string | string[];
  actorId?: string;
  /** Scopes the query to one tenant, also through row-level security (`aitrail.tenant_id`). */
  tenantId?: string;
  conversationId?: string;
  traceId?: string;
  /** Inclusive lower bound on `occurred_at`. */
  since?: Date | string;
  /** Inclusive upper bound on `occurred_at`. */
  until?: Date | string;
  /** Default 100, at most 10,000. */
  limit?: number;
  /** Default `desc` (newest first). */
  order?: 'asc' | 'desc';
}

/** One audit row, camelCase, timestamps as ISO 8601 UTC strings with microseconds. */
export type AuditLogEntry = Omit<SealedAuditRecord, 'metadataJson'> & {
  /** When the database stored the row (its default `now()`). */
  recordedAt: string;
};

const FILTER_KEYS: ReadonlySet<string> = new Set([
  'action',
  'actorId',
  'tenantId',
  'conversationId',
  'traceId',
  'since',
  'until',
  'limit',
  'order',
]);
export const MAX_QUERY_LIMIT = 10_000;

function isoMicros(column: AnyPgColumn): SQL<string> {
  return sql<string>`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

const SELECTION = {
  id: auditLogs.id,
  eventId: auditLogs.eventId,
  occurredAt: isoMicros(auditLogs.occurredAt),
  recordedAt: isoMicros(auditLogs.recordedAt),
  tenantId: auditLogs.tenantId,
  actorType: auditLogs.actorType,
  actorId: auditLogs.actorId,
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

function toTimestamp(name: string, value: Date | string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new TypeError(
      `queryAuditLogs: ${name} must be a Date or an ISO 8601 timestamp, got ${JSON.stringify(value)}`,
    );
  }
  return date.toISOString();
}

function conditions(filter: AuditLogFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.action !== undefined) {
    const actions = Array.isArray(filter.action) ? filter.action : [filter.action];
    where.push(
      actions.length === 1
        ? eq(auditLogs.action, actions[0] as string)
        : inArray(auditLogs.action, actions),
    );
  }
  if (filter.actorId !== undefined) where.push(eq(auditLogs.actorId, filter.actorId));
  if (filter.tenantId !== undefined) where.push(eq(auditLogs.tenantId, filter.tenantId));
  if (filter.conversationId !== undefined)
    where.push(eq(auditLogs.conversationId, filter.conversationId));
  if (filter.traceId !== undefined) where.push(eq(auditLogs.traceId, filter.traceId.toLowerCase()));
  if (filter.since !== undefined)
    where.push(gte(auditLogs.occurredAt, toTimestamp('since', filter.since)));
  if (filter.until !== undefined)
    where.push(lte(auditLogs.occurredAt, toTimestamp('until', filter.until)));
  return where;
}

function validate(filter: AuditLogFilter): number {
  if (filter === null || typeof filter !== 'object')
    throw new TypeError('queryAuditLogs: filter must be an object');
  for (const key of Object.keys(filter)) {
    if (!FILTER_KEYS.has(key)) throw new TypeError(`queryAuditLogs: unknown filter "${key}"`);
  }
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) {
    throw new TypeError(
      `queryAuditLogs: limit must be an integer from 1 to ${MAX_QUERY_LIMIT}, got ${String(filter.limit)}`,
    );
  }
  if (filter.order !== undefined && filter.order !== 'asc' && filter.order !== 'desc') {
    throw new TypeError(
      `queryAuditLogs: order must be "asc" or "desc", got ${JSON.stringify(filter.order)}`,
    );
  }
  return limit;
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

/** Compliance queries over `audit_logs`: filters map onto the table's indexes. */
export async function queryAuditLogs(
  store: AuditStore,
  filter: AuditLogFilter = {},
): Promise<AuditLogEntry[]> {
  const limit = validate(filter);
  const where = conditions(filter);
  const direction = filter.order === 'asc' ? asc : desc;
  const rows = await withTenant(store, filter.tenantId, (db) =>
    db
      .select(SELECTION)
      .from(auditLogs)
      .where(where.length > 0 ? and(...where) : undefined)
      .orderBy(direction(auditLogs.occurredAt), direction(auditLogs.chainSeq))
      .limit(limit),
  );
  return rows.map((row) => ({ ...row, chainSeq: Number(row.chainSeq) })) as AuditLogEntry[];
}
