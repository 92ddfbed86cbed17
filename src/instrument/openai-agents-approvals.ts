import type { AuditActor } from '../actions.js';
import { recordApproval } from './approval.js';
import { type CommonOptions, checkHelperOptions } from './common-options.js';
import type { AuditEventRef } from './emit.js';
import { checkActor, checkOptionalString } from './options.js';

/** The parts of the Agents SDK's `RunToolApprovalItem` aitrail reads (structural: no import). */
export interface AgentsApprovalItem {
  type: string;
  rawItem?: { callId?: string; name?: string; arguments?: string };
  toolName?: string;
  agent?: { name?: string };
}

/** The parts of the Agents SDK's `RunState` the decision helpers call. */
export interface AgentsRunState {
  approve(item: never, options?: { alwaysApprove?: boolean }): void;
  reject(item: never, options?: { alwaysReject?: boolean; message?: string }): void;
  /** The run's trace: a resumed run keeps it, which ties a decision to the span it unblocks. */
  _trace?: { traceId?: string } | null;
}

/** The parts of a run result that say which tool calls wait for approval. */
export interface AgentsRunResult {
  interruptions?: readonly AgentsApprovalItem[];
  state?: { _trace?: { traceId?: string } | null };
}

export interface AgentsApprovalDecisionOptions extends CommonOptions {
  /** Who decided. Required: an audit trail cannot say "someone approved". */
  approver: AuditActor;
  /** Why, recorded redacted. */
  reason?: string;
}

export interface ApproveAgentsToolCallOptions extends AgentsApprovalDecisionOptions {
  /** Approve this tool for the rest of the run (the SDK's `alwaysApprove`). */
  alwaysApprove?: boolean;
}

export interface RejectAgentsToolCallOptions extends AgentsApprovalDecisionOptions {
  /** Approve-never for the rest of the run (the SDK's `alwaysReject`). */
  alwaysReject?: boolean;
  /** What the model is told instead of the tool's output (the SDK's `message`). */
  message?: string;
}

/** Recorded when the Agents SDK shows a decision the app did not attribute. */
export const UNATTRIBUTED_APPROVER: AuditActor = Object.freeze({
  type: 'system',
  id: 'openai-agents',
});

/** Bound on remembered call ids: runs that are never resumed must not grow memory forever. */
const MAX_REMEMBERED = 10_000;

function remember(set: Set<string>, value: string): void {
  set.add(value);
  if (set.size > MAX_REMEMBERED) set.delete(set.values().next().value as string);
}

function scopedKey(agentsTraceId: string | undefined, name: string): string {
  return `${agentsTraceId ?? ''}\u0000${name}`;
}

function callIdOf(item: AgentsApprovalItem): string | undefined {
  return item?.rawItem?.callId;
}

function toolNameOf(item: AgentsApprovalItem): string | undefined {
  return item?.toolName ?? item?.rawItem?.name;
}

function argumentsOf(item: AgentsApprovalItem): unknown {
  const raw = item?.rawItem?.arguments;
  if (typeof raw !== 'string' || raw === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function checkApprovalItem(fn: string, item: AgentsApprovalItem): void {
  if (item === null || typeof item !== 'object' || item.type !== 'tool_approval_item') {
    throw new TypeError(`${fn}: item must be a tool approval item from result.interruptions`);
  }
}

const COMMON_KEYS = ['approver', 'reason'] as const;

function checkDecision(fn: string, options: AgentsApprovalDecisionOptions, own: readonly string[]) {
  checkHelperOptions(fn, options, [...COMMON_KEYS, ...own]);
  if (options.approver === undefined) {
    throw new TypeError(`${fn}: approver { type, id } is required — who made the decision`);
  }
  checkActor(fn, 'approver', options.approver, true);
  checkOptionalString(fn, 'reason', options.reason);
}

/**
 * What one OpenAI Agents SDK instrumentation knows about approvals: the requests it recorded and
 * the decisions the app recorded through it, by Agents SDK trace id and call id (call ids alone
 * are not unique across runs with every model), and the approvals still pending by tool name (a
 * resumed run keeps its trace id). The bridge reads it to link a function span to its approval.
 */
export class AgentsApprovalLedger {
  private readonly requested = new Set<string>();
  private readonly decided = new Set<string>();
  private readonly pendingByTool = new Map<string, string[]>();
  private pendingCount = 0;

  /**
   * Records `ai.approval_created` for each tool call an Agents SDK run paused on
   * (`result.interruptions`); the SDK's tracing shows nothing for a pending approval. Call it
   * once per paused result; a call id already recorded is skipped.
   */
  recordApprovalRequests(result: AgentsRunResult, options: CommonOptions = {}): AuditEventRef[] {
    checkHelperOptions('recordApprovalRequests', options, []);
    if (result === null || typeof result !== 'object') {
      throw new TypeError('recordApprovalRequests: result must be the result of run()');
    }
    const agentsTraceId = result.state?._trace?.traceId;
    const refs: AuditEventRef[] = [];
    for (const item of result.interruptions ?? []) {
      if (item?.type !== 'tool_approval_item') continue;
      const callId = callIdOf(item);
      const toolName = toolNameOf(item);
      if (callId !== undefined && this.requested.has(scopedKey(agentsTraceId, callId))) continue;
      refs.push(
        recordApproval({
          agentName: item.agent?.name,
          ...options,
          status: 'created',
          approvalId: callId,
          toolName,
          params: argumentsOf(item),
        }),
      );
      if (callId === undefined) continue;
      remember(this.requested, scopedKey(agentsTraceId, callId));
      if (agentsTraceId !== undefined && toolName !== undefined) {
        this.addPending(agentsTraceId, toolName, callId);
      }
    }
    return refs;
  }

  /** Approves a paused tool call in the run state and records who approved it. */
  approveToolCall(
    state: AgentsRunState,
    item: AgentsApprovalItem,
    options: ApproveAgentsToolCallOptions,
  ): AuditEventRef {
    const fn = 'approveToolCall';
    checkDecision(fn, options, ['alwaysApprove']);
    checkApprovalItem(fn, item);
    const { approver, reason, alwaysApprove, ...common } = options;
    state.approve(item as never, alwaysApprove === undefined ? undefined : { alwaysApprove });
    return this.recordDecision('approved', state, item, { approver, reason, common });
  }

  /** Rejects a paused tool call in the run state and records who rejected it. */
  rejectToolCall(
    state: AgentsRunState,
    item: AgentsApprovalItem,
    options: RejectAgentsToolCallOptions,
  ): AuditEventRef {
    const fn = 'rejectToolCall';
    checkDecision(fn, options, ['alwaysReject', 'message']);
    checkOptionalString(fn, 'message', options.message);
    checkApprovalItem(fn, item);
    const { approver, reason, alwaysReject, message, ...common } = options;
    const sdkOptions: { alwaysReject?: boolean; message?: string } = {};
    if (alwaysReject !== undefined) sdkOptions.alwaysReject = alwaysReject;
    if (message !== undefined) sdkOptions.message = message;
    state.reject(item as never, sdkOptions);
    return this.recordDecision('rejected', state, item, { approver, reason, common });
  }

  /**
   * The approval a function span of `toolName` in this Agents SDK trace resolves: the one with
   * `callId` when the span names it (a rejection does), else the oldest pending one.
   */
  takePendingApproval(
    agentsTraceId: string,
    toolName: string,
    callId: string | undefined,
  ): string | undefined {
    const key = scopedKey(agentsTraceId, toolName);
    const list = this.pendingByTool.get(key);
    if (list === undefined) return undefined;
    const index = callId === undefined ? 0 : list.indexOf(callId);
    if (index < 0) return undefined;
    const [taken] = list.splice(index, 1);
    this.pendingCount -= 1;
    if (list.length === 0) this.pendingByTool.delete(key);
    return taken;
  }

  /** True when the app recorded who decided this call through this ledger. */
  wasDecidedByApp(agentsTraceId: string, callId: string): boolean {
    return this.decided.has(scopedKey(agentsTraceId, callId));
  }

  private addPending(agentsTraceId: string, toolName: string, callId: string): void {
    if (this.pendingCount >= MAX_REMEMBERED) {
      const oldest = this.pendingByTool.keys().next().value as string;
      this.pendingCount -= this.pendingByTool.get(oldest)?.length ?? 0;
      this.pendingByTool.delete(oldest);
    }
    const key = scopedKey(agentsTraceId, toolName);
    const list = this.pendingByTool.get(key) ?? [];
    list.push(callId);
    this.pendingByTool.set(key, list);
    this.pendingCount += 1;
  }

  private recordDecision(
    status: 'approved' | 'rejected',
    state: AgentsRunState,
    item: AgentsApprovalItem,
    decision: { approver: AuditActor; reason: string | undefined; common: CommonOptions },
  ): AuditEventRef {
    const callId = callIdOf(item);
    // Remembered before recording, so the bridge never adds an unattributed row for it.
    if (callId !== undefined) remember(this.decided, scopedKey(state._trace?.traceId, callId));
    return recordApproval({
      agentName: item.agent?.name,
      ...decision.common,
      status,
      approvalId: callId,
      approver: decision.approver,
      toolName: toolNameOf(item),
      ...(decision.reason === undefined ? {} : { reason: decision.reason }),
    });
  }
}
