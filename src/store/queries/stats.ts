import { and, type SQL, sql } from 'drizzle-orm';
import type { AuditStore } from '../audit-store.js';
import { ERASED } from '../erasure/personal-fields.js';
import { PERSONAL_JOIN } from '../erasure/personal-view.js';
import { type AuditLogFilter, validateFilter } from '../queries.js';
import { checkReadOptions, type ReadOptions, recordRead } from '../reads/record-read.js';
import { auditLogs, auditPersonalData } from '../schema.js';
import { filterConditions, isoMicros, withTenant } from './rows.js';

export const STATS_DIMENSIONS = ['tenant', 'action', 'outcome', 'tool', 'agent', 'actor'] as const;
export type StatsDimension = (typeof STATS_DIMENSIONS)[number];
export const STATS_BUCKETS = ['hour', 'day', 'week', 'month'] as const;
export type StatsBucket = (typeof STATS_BUCKETS)[number];

export interface StatsOptions extends ReadOptions {
  /** Group by these (in this order); none: one total. */
  by?: StatsDimension[];
  /** Also group by a UTC time bucket (weeks start on Monday). */
  bucket?: StatsBucket;
  /** Which rows count: the `queryAuditLogs` filter (limit and order do not apply). */
  filter?: Omit<AuditLogFilter, 'limit' | 'order'>;
}

/** One group: its keys (only those grouped by) and its row count. */
export interface StatsRow {
  bucket?: string;
  tenant?: string | null;
  action?: string;
  outcome?: string;
  tool?: string | null;
  agent?: string | null;
  actor?: string;
  count: number;
}

const COLUMN: Record<StatsDimension, SQL> = {
  tenant: sql`${auditLogs.tenantId}`,
  action: sql`${auditLogs.action}`,
  outcome: sql`${auditLogs.outcome}`,
  tool: sql`${auditLogs.toolName}`,
  agent: sql`${auditLogs.agentName}`,
  // The chained actor_id is a salted commitment: the value is the vault's (`[ERASED]` once an
  // erasure removed it; the chained value for a row without a vault row). A literal, not a
  // parameter, so the grouped expression is the selected one.
  actor: sql`${auditLogs.actorType} || ':' || case when ${auditPersonalData.rowId} is null then ${auditLogs.actorId} else coalesce(${auditPersonalData.actorId}, ${sql.raw(`'${ERASED}'`)}) end`,
};

/** Counts of audit rows per group and time bucket, for a period: `aitrail stats`. */
export async function countAuditEvents(
  store: AuditStore,
  options: StatsOptions = {},
): Promise<StatsRow[]> {
  const fn = 'countAuditEvents';
  const { by = [], bucket, filter = {}, ...read } = options;
  checkReadOptions(fn, read);
  if (!Array.isArray(by)) throw new TypeError(`${fn}: by must be an array`);
  for (const d of by) {
    if (!STATS_DIMENSIONS.includes(d))
      throw new TypeError(
        `${fn}: by must hold ${STATS_DIMENSIONS.join(', ')}; got ${JSON.stringify(d)}`,
      );
  }
  if (bucket !== undefined && !STATS_BUCKETS.includes(bucket))
    throw new TypeError(`${fn}: bucket must be one of ${STATS_BUCKETS.join(', ')}`);
  validateFilter(fn, filter, Number.MAX_SAFE_INTEGER);
  const selection: Record<string, SQL> = {};
  const groups: SQL[] = [];
  if (bucket !== undefined) {
    const truncated = sql`date_trunc('${sql.raw(bucket)}', ${auditLogs.occurredAt} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`;
    selection.bucket = isoMicros(truncated);
    groups.push(truncated);
  }
  for (const d of by) {
    selection[d] = COLUMN[d];
    groups.push(COLUMN[d]);
  }
  const where = filterConditions(fn, filter);
  // The vault is joined (on its primary key) only when a group or filter reads it: the actor,
  // or the actorId and subjectId filters, which go through its indexes.
  const personal =
    by.includes('actor') || filter.actorId !== undefined || filter.subjectId !== undefined;
  const rows = await withTenant(store, filter.tenantId, (db) => {
    const query = db
      .select({ ...selection, count: sql<string>`count(*)` })
      .from(auditLogs)
      .$dynamic();
    return (personal ? query.leftJoin(auditPersonalData, PERSONAL_JOIN) : query)
      .where(where.length > 0 ? and(...where) : undefined)
      .groupBy(...groups)
      .orderBy(...(groups.length > 0 ? groups : [sql`1`]));
  });
  const result = rows.map((row) => ({ ...row, count: Number(row.count) })) as StatsRow[];
  await recordRead(
    store,
    {
      query: 'stats',
      filter: { ...filter, by, bucket },
      rows: result.reduce((n, r) => n + r.count, 0),
      tenantId: filter.tenantId,
    },
    read,
  );
  return result;
}
