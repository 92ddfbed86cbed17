import { desc, eq, gte, inArray, lt, or, type SQL } from 'drizzle-orm';
import type { AuditStore } from '../audit-store.js';
import { byActor, bySubject } from '../erasure/personal-view.js';
import type { AuditLogEntry } from '../queries.js';
import { checkReadOptions, type ReadOptions, recordRead } from '../reads/record-read.js';
import { auditCheckpoints, auditLogs, auditPersonalData } from '../schema.js';
import { scanRows, toTimestamp, withTenant } from './rows.js';

/** Values the erasure path replaced start with this marker (`[ERASED]`, `[ERASED:…]`). */
export const ERASED_MARKER = '[ERASED';

export type SubjectRole = 'subject' | 'actor' | 'resource';

export interface SubjectExportRow extends AuditLogEntry {
  /** How the row concerns the subject. */
  roles: SubjectRole[];
  /** Paths of fields whose value was erased (e.g. `metadata.content`, `resourceId`). */
  erasedFields: string[];
}

/** The newest checkpoint (signed tree head) of a chain the export touches. */
export interface ChainHead {
  chainId: string;
  chainSeq: number;
  headHash: string;
  createdAt: string;
  algorithm: string;
  keyId: string | null;
  signature: string | null;
  final: boolean;
}

export interface SubjectExport {
  manifest: {
    kind: 'aitrail.subject-export';
    version: 1;
    subjectId: string;
    generatedAt: string;
    query: { subjectId: string; since?: string; before?: string; tenantId?: string };
    period: { first: string | null; last: string | null };
    counts: {
      rows: number;
      asSubject: number;
      asActor: number;
      asResource: number;
      rowsWithErasedFields: number;
      byAction: Record<string, number>;
    };
  };
  rows: SubjectExportRow[];
  /**
   * What the rows rest on: each row's chain position and hash, and the newest checkpoint of
   * every chain touched. Inclusion proofs (`aitrail prove EVENT_ID`) tie a row to a head.
   */
  proof: {
    rows: Array<{
      eventId: string;
      chainId: string;
      chainSeq: number;
      prevHash: string;
      hash: string;
    }>;
    chainHeads: Array<ChainHead | { chainId: string; checkpoint: null }>;
  };
}

export interface SubjectExportQuery extends ReadOptions {
  subjectId: string;
  tenantId?: string;
  since?: Date | string;
  before?: Date | string;
  now?: Date;
}

const QUERY_KEYS = [
  'subjectId',
  'tenantId',
  'since',
  'before',
  'now',
  'reader',
  'signer',
  'readLog',
];

function erasedPaths(value: unknown, path: string, out: string[]): void {
  if (typeof value === 'string') {
    if (value.startsWith(ERASED_MARKER)) out.push(path);
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) erasedPaths(v, `${path}[${i}]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) erasedPaths(v, path ? `${path}.${k}` : k, out);
  }
}

/**
 * Everything the trail holds about one data subject (GDPR Art. 15): rows where they are the
 * subject, the actor or the resource, erased fields marked, with a manifest and the chain
 * heads the rows rest on. Ordered oldest first.
 */
export async function exportSubject(
  store: AuditStore,
  query: SubjectExportQuery,
): Promise<SubjectExport> {
  const fn = 'exportSubject';
  if (query === null || typeof query !== 'object')
    throw new TypeError(`${fn}: query must be an object`);
  for (const key of Object.keys(query))
    if (!QUERY_KEYS.includes(key)) throw new TypeError(`${fn}: unknown option "${key}"`);
  if (typeof query.subjectId !== 'string' || query.subjectId === '')
    throw new TypeError(`${fn}: subjectId is required and must be a non-empty string`);
  const { reader, signer, readLog } = query;
  checkReadOptions(fn, { reader, signer, readLog });
  const s = query.subjectId;
  const since = query.since === undefined ? undefined : toTimestamp(fn, 'since', query.since);
  const before = query.before === undefined ? undefined : toTimestamp(fn, 'before', query.before);
  const bounds = (column: typeof auditLogs.occurredAt | typeof auditPersonalData.occurredAt) => [
    ...(since === undefined ? [] : [gte(column, since)]),
    ...(before === undefined ? [] : [lt(column, before)]),
  ];
  const common: SQL[] = [...bounds(auditLogs.occurredAt)];
  if (query.tenantId !== undefined) common.push(eq(auditLogs.tenantId, query.tenantId));
  // Two scans, each on an index: the subject or the actor through the vault's indexes (the
  // chained actor_id and subject_id are commitments; bounds repeated on the vault's own
  // occurred_at so its indexes and partitions narrow), and the resource in the chained row.
  // `subjectCondition` (a user acting in rows without a subject) is within the actor match.
  const scans: SQL[][] = [
    [...common, ...bounds(auditPersonalData.occurredAt), or(bySubject(s), byActor(s)) as SQL],
    [...common, eq(auditLogs.resourceId, s)],
  ];
  const found = new Map<string, AuditLogEntry>();
  for (const where of scans)
    for await (const row of scanRows(store, { where, tenantId: query.tenantId, order: 'asc' }))
      found.set(row.id, row);
  const rows: SubjectExportRow[] = [];
  const ordered = [...found.values()].sort((a, b) =>
    a.occurredAt === b.occurredAt
      ? a.id.localeCompare(b.id)
      : a.occurredAt.localeCompare(b.occurredAt),
  );
  for (const row of ordered) {
    const roles: SubjectRole[] = [];
    if (
      row.subjectId === s ||
      (row.subjectId === null && row.actorType === 'user' && row.actorId === s)
    )
      roles.push('subject');
    if (row.actorId === s) roles.push('actor');
    if (row.resourceId === s) roles.push('resource');
    const erasedFields: string[] = [];
    erasedPaths({ ...row, hash: undefined, prevHash: undefined }, '', erasedFields);
    rows.push({ ...row, roles, erasedFields });
  }
  const chainIds = [...new Set(rows.map((r) => r.chainId))];
  const heads = await withTenant(store, query.tenantId, (db) =>
    chainIds.length === 0
      ? Promise.resolve([])
      : db
          .selectDistinctOn([auditCheckpoints.chainId])
          .from(auditCheckpoints)
          .where(inArray(auditCheckpoints.chainId, chainIds))
          .orderBy(
            auditCheckpoints.chainId,
            desc(auditCheckpoints.chainSeq),
            desc(auditCheckpoints.final),
          ),
  );
  const headByChain = new Map(heads.map((h) => [h.chainId, h]));
  const byAction: Record<string, number> = {};
  for (const r of rows) byAction[r.action] = (byAction[r.action] ?? 0) + 1;
  const result: SubjectExport = {
    manifest: {
      kind: 'aitrail.subject-export',
      version: 1,
      subjectId: s,
      generatedAt: (query.now ?? new Date()).toISOString(),
      query: {
        subjectId: s,
        ...(since ? { since } : {}),
        ...(before ? { before } : {}),
        ...(query.tenantId ? { tenantId: query.tenantId } : {}),
      },
      period: { first: rows[0]?.occurredAt ?? null, last: rows.at(-1)?.occurredAt ?? null },
      counts: {
        rows: rows.length,
        asSubject: rows.filter((r) => r.roles.includes('subject')).length,
        asActor: rows.filter((r) => r.roles.includes('actor')).length,
        asResource: rows.filter((r) => r.roles.includes('resource')).length,
        rowsWithErasedFields: rows.filter((r) => r.erasedFields.length > 0).length,
        byAction,
      },
    },
    rows,
    proof: {
      rows: rows.map(({ eventId, chainId, chainSeq, prevHash, hash }) => ({
        eventId,
        chainId,
        chainSeq,
        prevHash,
        hash,
      })),
      chainHeads: chainIds.map((chainId) => {
        const head = headByChain.get(chainId);
        return head
          ? {
              chainId,
              chainSeq: Number(head.chainSeq),
              headHash: head.headHash,
              createdAt: head.createdAt,
              algorithm: head.algorithm,
              keyId: head.keyId,
              signature: head.signature,
              final: head.final,
            }
          : { chainId, checkpoint: null };
      }),
    },
  };
  await recordRead(
    store,
    {
      query: 'subject-export',
      filter: result.manifest.query,
      rows: rows.length,
      subjectId: s,
      tenantId: query.tenantId,
    },
    { reader, signer, readLog },
  );
  return result;
}
