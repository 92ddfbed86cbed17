import type { SealedAuditRecord } from './audit-record.js';
import type { AuditStore } from './audit-store.js';
import { DEFAULT_PAGE_SIZE, filterConditions, scanRows } from './queries/rows.js';
import {
  checkReadOptions,
  type ReadEvent,
  type ReadOptions,
  recordRead,
} from './reads/record-read.js';

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
