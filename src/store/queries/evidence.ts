import { desc, sql } from 'drizzle-orm';
import type { AuditStore } from '../audit-store.js';
import { checkReadOptions, type ReadOptions, recordRead } from '../reads/record-read.js';
import { auditCheckpoints } from '../schema.js';
import { type VerifyReport, verifyAuditChains } from '../verify/index.js';
import { type ApprovalRequest, listApprovals } from './approvals.js';
import { toTimestamp } from './rows.js';
import { countAuditEvents, type StatsRow } from './stats.js';

/** Actions of the retention and erasure paths, whatever area names them: matched by word. */
const LIFECYCLE = /retention|prune|erase|erasure|legal_hold|\bhold/i;

export interface EvidenceQuery extends ReadOptions {
  /** Inclusive start of the period. */
  since: Date | string;
  /** Exclusive end of the period. */
  before: Date | string;
  /** A label such as `2026-Q4`. */
  label?: string;
  now?: Date;
}

export interface Evidence {
  label: string;
  since: string;
  before: string;
  generatedAt: string;
  totals: { rows: number; tenants: number; actions: number };
  /** Rows per ISO week (or day, for short periods) and action. */
  activityByAction: StatsRow[];
  activityByTenant: StatsRow[];
  bucket: 'day' | 'week';
  approvals: {
    requests: number;
    byStatus: Record<string, number>;
    medianDecisionMs: number | null;
    maxDecisionMs: number | null;
    /** Tool calls of tools that go through approval, and how many carry an approval id. */
    gatedToolCalls: number;
    linkedToolCalls: number;
    undecided: ApprovalRequest[];
  };
  failuresAndStops: StatsRow[];
  lifecycle: StatsRow[];
  readers: StatsRow[];
  verify: Pick<VerifyReport, 'ok' | 'rowsChecked' | 'signatures' | 'notes'> & {
    chains: Array<{ chainId: string; rows: number; failures: number; firstFailure: string | null }>;
  };
  treeHeads: Array<{
    chainId: string;
    chainSeq: number;
    headHash: string;
    createdAt: string;
    algorithm: string;
    keyId: string | null;
    signature: string | null;
  }>;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

/**
 * What an evidence report for SOC 2 CC7.2 and AI Act Art. 12 rests on, for one period:
 * activity, approvals, failures and stops, retention and erasure, readers, and the verify
 * result with the tree heads. `aitrail evidence` renders it as one HTML file.
 */
export async function buildEvidence(store: AuditStore, query: EvidenceQuery): Promise<Evidence> {
  const fn = 'buildEvidence';
  if (query === null || typeof query !== 'object')
    throw new TypeError(`${fn}: query must be an object`);
  for (const key of Object.keys(query))
    if (!['since', 'before', 'label', 'now', 'reader', 'signer', 'readLog'].includes(key))
      throw new TypeError(`${fn}: unknown option "${key}"`);
  const { reader, signer, readLog } = query;
  checkReadOptions(fn, { reader, signer, readLog });
  const since = toTimestamp(fn, 'since', query.since);
  const before = toTimestamp(fn, 'before', query.before);
  if (Date.parse(before) <= Date.parse(since))
    throw new TypeError(`${fn}: before must be after since`);
  const bucket = Date.parse(before) - Date.parse(since) <= 31 * 86_400_000 ? 'day' : 'week';
  // The sub-queries record their own reads too; the report records one more, naming itself.
  const inner = { reader, signer, readLog };
  const period = { since, before };
  const activityByAction = await countAuditEvents(store, {
    by: ['action'],
    bucket,
    filter: period,
    ...inner,
  });
  const activityByTenant = await countAuditEvents(store, {
    by: ['tenant'],
    bucket,
    filter: period,
    ...inner,
  });
  const failuresAndStops = await countAuditEvents(store, {
    by: ['action', 'outcome', 'tenant'],
    filter: { ...period, outcome: ['failure', 'denied'] },
    ...inner,
  });
  const readers = await countAuditEvents(store, {
    by: ['actor'],
    filter: { ...period, action: 'audit.read' },
    ...inner,
  });
  const all = await countAuditEvents(store, {
    by: ['action', 'tenant', 'tool'],
    filter: { ...period, includeReads: true },
    ...inner,
  });
  const lifecycle = all
    .filter((r) => LIFECYCLE.test(r.action ?? ''))
    .map(({ action, tenant, count }) => ({ action, tenant, count }));
  const requests = await listApprovals(store, { since, before, ...inner, now: query.now });
  const gatedTools = new Set(
    requests.map((r) => r.toolName).filter((t): t is string => t !== null),
  );
  const gatedToolCalls = all
    .filter((r) => r.action === 'ai.tool_call' && r.tool && gatedTools.has(r.tool))
    .reduce((n, r) => n + r.count, 0);
  const byStatus: Record<string, number> = {};
  for (const r of requests) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  const times = requests.map((r) => r.timeToDecisionMs).filter((t): t is number => t !== null);
  const report = await verifyAuditChains(store, { signer: signer ?? null });
  const heads = await store.db
    .selectDistinctOn([auditCheckpoints.chainId])
    .from(auditCheckpoints)
    .where(sql`${auditCheckpoints.createdAt} < ${before}::timestamptz`)
    .orderBy(
      auditCheckpoints.chainId,
      desc(auditCheckpoints.chainSeq),
      desc(auditCheckpoints.final),
    );
  const rows = activityByAction.reduce((n, r) => n + r.count, 0);
  const evidence: Evidence = {
    label: query.label ?? `${since.slice(0, 10)} – ${before.slice(0, 10)}`,
    since,
    before,
    generatedAt: (query.now ?? new Date()).toISOString(),
    totals: {
      rows,
      tenants: new Set(activityByTenant.map((r) => r.tenant)).size,
      actions: new Set(activityByAction.map((r) => r.action)).size,
    },
    activityByAction,
    activityByTenant,
    bucket,
    approvals: {
      requests: requests.length,
      byStatus,
      medianDecisionMs: median(times),
      maxDecisionMs: times.length ? Math.max(...times) : null,
      gatedToolCalls,
      linkedToolCalls: requests.filter((r) => r.gatedCall !== null).length,
      undecided: requests.filter((r) => r.status === 'pending' || r.status === 'overdue'),
    },
    failuresAndStops,
    lifecycle,
    readers,
    verify: {
      ok: report.ok,
      rowsChecked: report.rowsChecked,
      signatures: report.signatures,
      notes: report.notes,
      chains: report.chains.map((c) => ({
        chainId: c.chainId,
        rows: c.rowsChecked,
        failures: c.failures,
        firstFailure: c.firstFailure ? `${c.firstFailure.kind}: ${c.firstFailure.detail}` : null,
      })),
    },
    treeHeads: heads.map((h) => ({
      chainId: h.chainId,
      chainSeq: Number(h.chainSeq),
      headHash: h.headHash,
      createdAt: h.createdAt,
      algorithm: h.algorithm,
      keyId: h.keyId,
      signature: h.signature,
    })),
  };
  await recordRead(
    store,
    { query: 'evidence', filter: { since, before, label: evidence.label }, rows },
    inner,
  );
  return evidence;
}
