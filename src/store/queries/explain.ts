import { eq, inArray, isNull, type SQL } from 'drizzle-orm';
import type { JsonValue } from '../../sanitize/types.js';
import type { AuditStore } from '../audit-store.js';
import { ERASED } from '../erasure/personal-fields.js';
import { personalErased, personalValue } from '../erasure/personal-view.js';
import type { AuditLogEntry } from '../queries.js';
import { checkReadOptions, type ReadOptions, recordRead } from '../reads/record-read.js';
import { auditLogs } from '../schema.js';
import { scanRows } from './rows.js';

export type TimelineKind =
  | 'message'
  | 'tool_call'
  | 'handoff'
  | 'approval'
  | 'guardrail_stop'
  | 'budget_stop'
  | 'rate_limit_stop'
  | 'task'
  | 'event';

/** One step of a decision timeline, in the words an Art. 22 / Art. 86 explanation needs. */
export interface TimelineStep {
  occurredAt: string;
  kind: TimelineKind;
  action: string;
  outcome: string;
  actor: string;
  agentName: string | null;
  /** One line a person can read. */
  summary: string;
  model?: string;
  provider?: string;
  content?: JsonValue;
  toolName?: string;
  params?: JsonValue;
  result?: JsonValue;
  handoff?: { from: string | null; to: string | null; reason: string | null };
  approval?: {
    approvalId: string | null;
    status: string;
    approver: string | null;
    /** The tool call this approval gated (same approval id), if recorded. */
    gatedCallEventId: string | null;
  };
  error?: { type?: string; message?: string };
  eventId: string;
  traceId: string;
  /** The receipt of the erasure that removed personal values of this step's row, if any. */
  erasedBy?: string;
}

export interface Explanation {
  scope: { conversationId?: string; traceId?: string; taskId?: string };
  tenantId: string | null;
  steps: TimelineStep[];
  /** The last step's outcome, and every stop along the way. */
  outcome: string | null;
}

export interface ExplainQuery extends ReadOptions {
  conversationId?: string;
  traceId?: string;
  taskId?: string;
  tenantId?: string;
}

const QUERY_KEYS = [
  'conversationId',
  'traceId',
  'taskId',
  'tenantId',
  'reader',
  'signer',
  'readLog',
];

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function kindOf(action: string): TimelineKind {
  if (action === 'ai.chat_message') return 'message';
  if (action === 'ai.tool_call') return 'tool_call';
  if (action === 'ai.agent_handoff') return 'handoff';
  if (action.startsWith('ai.approval_')) return 'approval';
  if (action === 'ai.budget_exceeded') return 'budget_stop';
  if (action === 'ai.rate_limited') return 'rate_limit_stop';
  if (action.startsWith('ai.guardrail')) return 'guardrail_stop';
  if (action.startsWith('ai.task_')) return 'task';
  return 'event';
}

function step(row: AuditLogEntry, gatedCalls: Map<string, string>): TimelineStep {
  const m = row.metadata ?? {};
  const kind = kindOf(row.action);
  const base: TimelineStep = {
    occurredAt: row.occurredAt,
    kind,
    action: row.action,
    outcome: row.outcome,
    actor: `${row.actorType}:${row.actorId}`,
    agentName: row.agentName,
    summary: row.action,
    eventId: row.eventId,
    traceId: row.traceId,
  };
  if (m.error) base.error = m.error;
  if (row.erasedBy !== null) base.erasedBy = row.erasedBy;
  // Personal values (content, params, results, approver ids) come from the vault; once erased
  // they read `[ERASED]`.
  const erased = personalErased(m);
  const personal = (key: string) => personalValue(m, key) as JsonValue | undefined;
  switch (kind) {
    case 'message':
      if (typeof m.model === 'string') base.model = m.model;
      if (typeof m.provider === 'string') base.provider = m.provider;
      if (personal('content') !== undefined) base.content = personal('content');
      base.summary = `chat with ${m.model ?? 'a model'}${m.provider ? ` (${m.provider})` : ''}`;
      break;
    case 'tool_call':
      base.toolName = row.toolName ?? undefined;
      if (personal('toolParams') !== undefined) base.params = personal('toolParams');
      if (personal('toolResult') !== undefined) base.result = personal('toolResult');
      base.summary = `called ${row.toolName ?? 'a tool'}${row.approvalId ? ` (approval ${row.approvalId})` : ''}`;
      break;
    case 'handoff':
      base.handoff = {
        from: str(m.handoffFrom),
        to: str(m.handoffTo),
        reason: str(m.reason),
      };
      base.summary = `handed off ${m.handoffFrom ?? '?'} → ${m.handoffTo ?? '?'}${m.reason ? `: ${m.reason}` : ''}`;
      break;
    case 'approval': {
      const status = row.action.replace('ai.approval_', '');
      const approverId = typeof m.approverId === 'string' ? m.approverId : erased ? ERASED : null;
      const approver =
        approverId !== null && (typeof m.approverId === 'string' || status !== 'created')
          ? `${m.approverType ?? 'user'}:${approverId}`
          : null;
      base.toolName = row.toolName ?? undefined;
      if (personal('toolParams') !== undefined) base.params = personal('toolParams');
      base.approval = {
        approvalId: row.approvalId,
        status,
        approver,
        gatedCallEventId: row.approvalId ? (gatedCalls.get(row.approvalId) ?? null) : null,
      };
      base.summary = `approval ${row.approvalId ?? ''} ${status}${approver ? ` by ${approver}` : ''}${row.toolName ? ` for ${row.toolName}` : ''}`;
      break;
    }
    case 'budget_stop':
      base.summary = `stopped by budget ${m.budgetKey ?? ''} (${m.budgetUsed ?? '?'}/${m.budgetLimit ?? '?'} ${m.budgetUnit ?? ''})${m.stoppedTool ? `: ${m.stoppedTool}` : m.stoppedAction ? `: ${m.stoppedAction}` : ''}`;
      break;
    case 'rate_limit_stop':
      base.summary = `stopped by rate limit ${m.rateLimitKey ?? ''}${m.stoppedTool ? `: ${m.stoppedTool}` : m.stoppedAction ? `: ${m.stoppedAction}` : ''}`;
      break;
    case 'guardrail_stop':
      base.summary = `guardrail ${row.outcome === 'success' ? 'passed' : 'stopped'}${m.reason ? `: ${m.reason}` : ''}`;
      break;
    case 'task':
      base.summary = `task ${row.taskId ?? ''} ${row.action.replace('ai.task_', '')}`;
      break;
    default:
      base.summary = row.action;
  }
  base.summary = base.summary.replace(/\s+/g, ' ').trim();
  return base;
}

/**
 * The decision timeline of one conversation, trace or task, oldest first: messages, tool calls
 * with their sanitized params and results, handoffs, approvals with the call they gated,
 * stops and outcomes. Rows of the conversation's traces that lack its id are included too.
 */
export async function explainDecisions(
  store: AuditStore,
  query: ExplainQuery,
): Promise<Explanation> {
  const fn = 'explainDecisions';
  if (query === null || typeof query !== 'object')
    throw new TypeError(`${fn}: query must be an object`);
  for (const key of Object.keys(query))
    if (!QUERY_KEYS.includes(key)) throw new TypeError(`${fn}: unknown option "${key}"`);
  const { reader, signer, readLog } = query;
  checkReadOptions(fn, { reader, signer, readLog });
  const scopes = [query.conversationId, query.traceId, query.taskId].filter((s) => s !== undefined);
  if (scopes.length !== 1)
    throw new TypeError(`${fn}: give exactly one of conversationId, traceId, taskId`);
  const where: SQL[] = [];
  if (query.tenantId !== undefined) where.push(eq(auditLogs.tenantId, query.tenantId));
  const scope =
    query.conversationId !== undefined
      ? eq(auditLogs.conversationId, query.conversationId)
      : query.traceId !== undefined
        ? eq(auditLogs.traceId, query.traceId.toLowerCase())
        : eq(auditLogs.taskId, query.taskId as string);
  const rows: AuditLogEntry[] = [];
  for await (const row of scanRows(store, {
    where: [...where, scope],
    tenantId: query.tenantId,
    order: 'asc',
  }))
    rows.push(row);
  if (query.conversationId !== undefined && rows.length > 0) {
    const traces = [...new Set(rows.map((r) => r.traceId))];
    for await (const row of scanRows(store, {
      where: [...where, inArray(auditLogs.traceId, traces), isNull(auditLogs.conversationId)],
      tenantId: query.tenantId,
      order: 'asc',
    }))
      rows.push(row);
    rows.sort((a, b) =>
      a.occurredAt === b.occurredAt
        ? a.id.localeCompare(b.id)
        : a.occurredAt.localeCompare(b.occurredAt),
    );
  }
  const gatedCalls = new Map<string, string>();
  for (const row of rows)
    if (row.action === 'ai.tool_call' && row.approvalId)
      gatedCalls.set(row.approvalId, row.eventId);
  const steps = rows.filter((r) => r.action !== 'audit.read').map((r) => step(r, gatedCalls));
  await recordRead(
    store,
    {
      query: 'explain',
      filter: {
        conversationId: query.conversationId,
        traceId: query.traceId,
        taskId: query.taskId,
      },
      rows: steps.length,
      tenantId: query.tenantId,
    },
    { reader, signer, readLog },
  );
  return {
    scope: {
      ...(query.conversationId !== undefined ? { conversationId: query.conversationId } : {}),
      ...(query.traceId !== undefined ? { traceId: query.traceId } : {}),
      ...(query.taskId !== undefined ? { taskId: query.taskId } : {}),
    },
    tenantId: rows[0]?.tenantId ?? null,
    steps,
    outcome: steps.at(-1)?.outcome ?? null,
  };
}
