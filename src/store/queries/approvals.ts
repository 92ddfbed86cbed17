import { and, eq, inArray, isNotNull, or, type SQL } from 'drizzle-orm';
import type { AuditStore } from '../audit-store.js';
import { ERASED } from '../erasure/personal-fields.js';
import { personalErased } from '../erasure/personal-view.js';
import type { AuditLogEntry } from '../queries.js';
import { checkReadOptions, type ReadOptions, recordRead } from '../reads/record-read.js';
import { auditLogs } from '../schema.js';
import { scanRows, toTimestamp } from './rows.js';

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'overdue'] as const;
export type ApprovalRequestStatus = (typeof APPROVAL_STATUSES)[number];
export const APPROVAL_GROUPINGS = ['tool', 'approver', 'group', 'tenant'] as const;
export type ApprovalGrouping = (typeof APPROVAL_GROUPINGS)[number];

const DECISIONS: Record<string, ApprovalRequestStatus> = {
  'ai.approval_approved': 'approved',
  'ai.approval_rejected': 'rejected',
  'ai.approval_expired': 'expired',
};
const APPROVAL_ACTIONS = ['ai.approval_created', ...Object.keys(DECISIONS)];

/** One approval request, from its rows (created, decision) and the tool call it gated. */
export interface ApprovalRequest {
  approvalId: string;
  /** `overdue`: still undecided past the deadline given as `overdueAfterMs`. */
  status: ApprovalRequestStatus;
  tenantId: string | null;
  toolName: string | null;
  requestedBy: string | null;
  requestedAt: string | null;
  approverGroup: string | null;
  assignee: string | null;
  /** `type:id` of who decided. */
  approver: string | null;
  decidedAt: string | null;
  timeToDecisionMs: number | null;
  reason: string | null;
  /** The tool call whose `approvalId` names this request. */
  gatedCall: {
    eventId: string;
    occurredAt: string;
    toolName: string | null;
    outcome: string;
  } | null;
  conversationId: string | null;
}

export interface ApprovalQuery extends ReadOptions {
  tenantId?: string;
  toolName?: string;
  approvalId?: string;
  /** Only requests with this status. */
  status?: ApprovalRequestStatus;
  /** Undecided requests older than this count as `overdue`. */
  overdueAfterMs?: number;
  since?: Date | string;
  before?: Date | string;
  /** The clock for `overdue`; default now. */
  now?: Date;
}

const QUERY_KEYS = [
  'tenantId',
  'toolName',
  'approvalId',
  'status',
  'overdueAfterMs',
  'since',
  'before',
  'now',
  'reader',
  'signer',
  'readLog',
];

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/**
 * A personal value (group, assignee, approver id, reason live in the vault): the row's value,
 * `[ERASED]` when an erasure removed the row's personal values, else null.
 */
function personalText(m: AuditLogEntry['metadata'], key: string): string | null {
  const value = text(m[key]);
  return value ?? (personalErased(m) ? ERASED : null);
}

/** Fills a field from the first row holding a value; `[ERASED]` only if no row holds one. */
function fill(current: string | null, value: string | null): string | null {
  if (value === null) return current;
  if (current === null || (current === ERASED && value !== ERASED)) return value;
  return current;
}

function fold(requests: Map<string, ApprovalRequest>, row: AuditLogEntry): void {
  const id = row.approvalId as string;
  let request = requests.get(id);
  if (!request) {
    request = {
      approvalId: id,
      status: 'pending',
      tenantId: row.tenantId,
      toolName: null,
      requestedBy: null,
      requestedAt: null,
      approverGroup: null,
      assignee: null,
      approver: null,
      decidedAt: null,
      timeToDecisionMs: null,
      reason: null,
      gatedCall: null,
      conversationId: row.conversationId,
    };
    requests.set(id, request);
  }
  const m = row.metadata ?? {};
  if (row.action !== 'ai.tool_call') {
    request.approverGroup = fill(request.approverGroup, personalText(m, 'approverGroup'));
    request.assignee = fill(request.assignee, personalText(m, 'assignee'));
  } else {
    request.approverGroup = fill(request.approverGroup, text(m.approverGroup));
    request.assignee = fill(request.assignee, text(m.assignee));
  }
  request.conversationId ??= row.conversationId;
  if (row.action === 'ai.tool_call') {
    request.gatedCall ??= {
      eventId: row.eventId,
      occurredAt: row.occurredAt,
      toolName: row.toolName,
      outcome: row.outcome,
    };
    request.toolName ??= row.toolName;
    return;
  }
  if (row.toolName) request.toolName ??= row.toolName;
  if (row.action === 'ai.approval_created') {
    request.requestedAt ??= row.occurredAt;
    request.requestedBy ??= `${row.actorType}:${row.actorId}`;
    return;
  }
  const decision = DECISIONS[row.action];
  if (decision && request.decidedAt === null) {
    request.status = decision;
    request.decidedAt = row.occurredAt;
    const approverId = personalText(m, 'approverId');
    request.approver =
      approverId !== null
        ? `${typeof m.approverType === 'string' ? m.approverType : 'user'}:${approverId}`
        : null;
    request.reason = personalText(m, 'reason');
  }
}

/**
 * Approval requests with their status, approver, group, gated tool call and time to decision:
 * `aitrail approvals`. Rows are linked by `approval_id`; a row without one cannot be linked.
 */
export async function listApprovals(
  store: AuditStore,
  query: ApprovalQuery = {},
): Promise<ApprovalRequest[]> {
  const fn = 'listApprovals';
  if (query === null || typeof query !== 'object')
    throw new TypeError(`${fn}: query must be an object`);
  for (const key of Object.keys(query))
    if (!QUERY_KEYS.includes(key)) throw new TypeError(`${fn}: unknown option "${key}"`);
  const { reader, signer, readLog } = query;
  checkReadOptions(fn, { reader, signer, readLog });
  if (query.status !== undefined && !APPROVAL_STATUSES.includes(query.status))
    throw new TypeError(`${fn}: status must be one of ${APPROVAL_STATUSES.join(', ')}`);
  if (
    query.overdueAfterMs !== undefined &&
    (!Number.isFinite(query.overdueAfterMs) || query.overdueAfterMs < 0)
  )
    throw new TypeError(`${fn}: overdueAfterMs must be a non-negative number`);
  const where: SQL[] = [
    isNotNull(auditLogs.approvalId),
    or(inArray(auditLogs.action, APPROVAL_ACTIONS), eq(auditLogs.action, 'ai.tool_call')) as SQL,
  ];
  if (query.tenantId !== undefined) where.push(eq(auditLogs.tenantId, query.tenantId));
  if (query.approvalId !== undefined) where.push(eq(auditLogs.approvalId, query.approvalId));
  const requests = new Map<string, ApprovalRequest>();
  for await (const row of scanRows(store, {
    where: [and(...where) as SQL],
    tenantId: query.tenantId,
    order: 'asc',
  }))
    fold(requests, row);
  const now = (query.now ?? new Date()).getTime();
  const since = query.since === undefined ? undefined : toTimestamp(fn, 'since', query.since);
  const before = query.before === undefined ? undefined : toTimestamp(fn, 'before', query.before);
  const result: ApprovalRequest[] = [];
  for (const request of requests.values()) {
    const start = request.requestedAt ?? request.gatedCall?.occurredAt ?? request.decidedAt;
    if (since !== undefined && (start === null || Date.parse(start) < Date.parse(since))) continue;
    if (before !== undefined && (start === null || Date.parse(start) >= Date.parse(before)))
      continue;
    if (request.requestedAt !== null && request.decidedAt !== null)
      request.timeToDecisionMs = Date.parse(request.decidedAt) - Date.parse(request.requestedAt);
    if (
      request.status === 'pending' &&
      query.overdueAfterMs !== undefined &&
      request.requestedAt !== null &&
      now - Date.parse(request.requestedAt) > query.overdueAfterMs
    )
      request.status = 'overdue';
    if (query.toolName !== undefined && request.toolName !== query.toolName) continue;
    if (query.status !== undefined && request.status !== query.status) continue;
    result.push(request);
  }
  await recordRead(
    store,
    {
      query: 'approvals',
      filter: {
        ...query,
        reader: undefined,
        signer: undefined,
        readLog: undefined,
        now: undefined,
      },
      rows: result.length,
      tenantId: query.tenantId,
    },
    { reader, signer, readLog },
  );
  return result;
}

/** Per group: how many requests in each status, and decision times. */
export interface ApprovalSummary {
  key: string | null;
  total: number;
  pending: number;
  approved: number;
  rejected: number;
  expired: number;
  overdue: number;
  /** Requests whose gated tool call is linked (approval coverage of calls). */
  linkedCalls: number;
  medianDecisionMs: number | null;
  maxDecisionMs: number | null;
}

export function summarizeApprovals(
  requests: readonly ApprovalRequest[],
  by: ApprovalGrouping,
): ApprovalSummary[] {
  const key = (r: ApprovalRequest) =>
    by === 'tool'
      ? r.toolName
      : by === 'approver'
        ? r.approver
        : by === 'group'
          ? r.approverGroup
          : r.tenantId;
  const groups = new Map<string | null, ApprovalRequest[]>();
  for (const r of requests) {
    const k = key(r);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => String(a).localeCompare(String(b)))
    .map(([k, rs]) => {
      const times = rs
        .map((r) => r.timeToDecisionMs)
        .filter((t): t is number => t !== null)
        .sort((a, b) => a - b);
      const count = (s: ApprovalRequestStatus) => rs.filter((r) => r.status === s).length;
      return {
        key: k,
        total: rs.length,
        pending: count('pending'),
        approved: count('approved'),
        rejected: count('rejected'),
        expired: count('expired'),
        overdue: count('overdue'),
        linkedCalls: rs.filter((r) => r.gatedCall !== null).length,
        medianDecisionMs: times.length
          ? (times[Math.floor((times.length - 1) / 2)] as number)
          : null,
        maxDecisionMs: times.length ? (times[times.length - 1] as number) : null,
      };
    });
}
