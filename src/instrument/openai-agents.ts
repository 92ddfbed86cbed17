import { registerExternalToolScope } from '../processor/helper-overlap.js';
import type { CommonOptions } from './common-options.js';
import type { AuditEventRef } from './emit.js';
import {
  type AgentsApprovalItem,
  AgentsApprovalLedger,
  type AgentsRunResult,
  type AgentsRunState,
  type ApproveAgentsToolCallOptions,
  type RejectAgentsToolCallOptions,
} from './openai-agents-approvals.js';
import {
  type AgentsSpan,
  type AgentsTrace,
  AuditTracingProcessor,
} from './openai-agents-tracing.js';
import { importOptionalPeer } from './optional-peer.js';
import { checkStrictKeys } from './options.js';

export {
  type AgentsApprovalDecisionOptions,
  type AgentsApprovalItem,
  type AgentsRunResult,
  type AgentsRunState,
  type ApproveAgentsToolCallOptions,
  type RejectAgentsToolCallOptions,
  UNATTRIBUTED_APPROVER,
} from './openai-agents-approvals.js';
export { GUARDRAIL_TRIGGERED } from './openai-agents-tracing.js';

export interface InstrumentOpenAIAgentsOptions {
  /**
   * Replace the Agents SDK's trace processors (its default exporter to the OpenAI dashboard
   * included) with aitrail's, instead of adding aitrail's beside them. Default false.
   */
  replaceDefaultProcessors?: boolean;
  /**
   * The `@openai/agents` module to instrument (`import * as agents from '@openai/agents'`);
   * default the one this package resolves. For bundled apps or a second copy of the SDK.
   */
  sdk?: object;
}

/**
 * One instrumentation of the Agents SDK: its trace processor and the approvals it has seen.
 * Record approvals through the value that recorded the run, so the bridge links each decision
 * to the function span it unblocks.
 */
export interface OpenAIAgentsInstrumentation {
  /** Records `ai.approval_created` for each tool call a run paused on (`result.interruptions`). */
  recordApprovalRequests(result: AgentsRunResult, options?: CommonOptions): AuditEventRef[];
  /** Approves a paused tool call in the run state and records who approved it. */
  approveToolCall(
    state: AgentsRunState,
    item: AgentsApprovalItem,
    options: ApproveAgentsToolCallOptions,
  ): AuditEventRef;
  /** Rejects a paused tool call in the run state and records who rejected it. */
  rejectToolCall(
    state: AgentsRunState,
    item: AgentsApprovalItem,
    options: RejectAgentsToolCallOptions,
  ): AuditEventRef;
  /** Stops recording Agents SDK spans (the SDK offers no way to remove a processor). */
  disable(): void;
}

/** The SDK functions used here; typed structurally so `@openai/agents` stays optional. */
interface AgentsSdk {
  addTraceProcessor(processor: unknown): void;
  setTraceProcessors(processors: unknown[]): void;
  getCurrentTrace(): AgentsTrace | null;
  getCurrentSpan(): AgentsSpan | null;
}

function isAgentsSdk(value: unknown): value is AgentsSdk {
  const sdk = value as Partial<AgentsSdk> | null;
  return (
    typeof sdk?.addTraceProcessor === 'function' &&
    typeof sdk.setTraceProcessors === 'function' &&
    typeof sdk.getCurrentSpan === 'function' &&
    typeof sdk.getCurrentTrace === 'function'
  );
}

/**
 * Records what OpenAI Agents SDK runs do (0.14 to 0.20): tool calls, handoffs, tripped
 * guardrails and approval decisions, as audit records with the actor and tenant of
 * `withAuditContext`. Each call registers a trace processor of its own with the SDK, and the
 * value returned owns it and its approvals: call it once per process, and `disable()` it before
 * instrumenting again. The SDK turns its tracing off when `NODE_ENV=test` or
 * `OPENAI_AGENTS_DISABLE_TRACING=1`; nothing is recorded then until `setTracingDisabled(false)`.
 */
export async function instrumentOpenAIAgents(
  options: InstrumentOpenAIAgentsOptions = {},
): Promise<OpenAIAgentsInstrumentation> {
  checkStrictKeys('instrumentOpenAIAgents', options, ['replaceDefaultProcessors', 'sdk']);
  const { replaceDefaultProcessors } = options;
  if (replaceDefaultProcessors !== undefined && typeof replaceDefaultProcessors !== 'boolean') {
    throw new TypeError('instrumentOpenAIAgents: replaceDefaultProcessors must be a boolean');
  }
  if (options.sdk !== undefined && !isAgentsSdk(options.sdk)) {
    throw new TypeError('instrumentOpenAIAgents: sdk must be the @openai/agents module');
  }
  const sdk = (options.sdk ??
    (await importOptionalPeer(
      '@openai/agents',
      'instrumentOpenAIAgents',
      () => import('@openai/agents'),
    ))) as unknown as AgentsSdk;

  const approvals = new AgentsApprovalLedger();
  const processor = new AuditTracingProcessor(sdk, approvals);
  if (replaceDefaultProcessors) sdk.setTraceProcessors([processor]);
  else sdk.addTraceProcessor(processor);
  // Lets a `traceToolCall` inside an Agents SDK tool claim the call: one row, the helper's.
  let unregisterToolScope: (() => void) | undefined = registerExternalToolScope(() => {
    const span = sdk.getCurrentSpan();
    return span?.spanData?.type === 'function' ? span : undefined;
  });
  return {
    recordApprovalRequests: (result, common) => approvals.recordApprovalRequests(result, common),
    approveToolCall: (state, item, decision) => approvals.approveToolCall(state, item, decision),
    rejectToolCall: (state, item, decision) => approvals.rejectToolCall(state, item, decision),
    disable() {
      processor.enabled = false;
      unregisterToolScope?.();
      unregisterToolScope = undefined;
    },
  };
}
