import { registerExternalToolScope } from '../processor/helper-overlap.js';
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
  approveAgentsToolCall,
  type RejectAgentsToolCallOptions,
  recordAgentsApprovalRequests,
  rejectAgentsToolCall,
  UNATTRIBUTED_APPROVER,
} from './openai-agents-approvals.js';
export { GUARDRAIL_TRIGGERED } from './openai-agents-tracing.js';

export interface InstrumentOpenAIAgentsOptions {
  /**
   * Replace the Agents SDK's trace processors (its default exporter to the OpenAI dashboard
   * included) with aitrail's, instead of adding aitrail's beside them. Default false.
   */
  replaceDefaultProcessors?: boolean;
}

export interface OpenAIAgentsInstrumentation {
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

let installed: { processor: AuditTracingProcessor; sdk: AgentsSdk } | undefined;
let unregisterToolScope: (() => void) | undefined;

/**
 * Records what OpenAI Agents SDK runs do: tool calls, handoffs, tripped guardrails and approval
 * decisions, as audit records with the actor and tenant of `withAuditContext`. Registers a
 * trace processor with the SDK; calling it again re-enables the same processor. The SDK turns
 * its tracing off when `NODE_ENV=test` or `OPENAI_AGENTS_DISABLE_TRACING=1`; nothing is
 * recorded then until `setTracingDisabled(false)`.
 */
export async function instrumentOpenAIAgents(
  options: InstrumentOpenAIAgentsOptions = {},
): Promise<OpenAIAgentsInstrumentation> {
  checkStrictKeys('instrumentOpenAIAgents', options, ['replaceDefaultProcessors']);
  const { replaceDefaultProcessors } = options;
  if (replaceDefaultProcessors !== undefined && typeof replaceDefaultProcessors !== 'boolean') {
    throw new TypeError('instrumentOpenAIAgents: replaceDefaultProcessors must be a boolean');
  }
  const sdk = (await importOptionalPeer(
    '@openai/agents',
    'instrumentOpenAIAgents',
    () => import('@openai/agents'),
  )) as unknown as AgentsSdk;

  if (installed === undefined || installed.sdk !== sdk) {
    const processor = new AuditTracingProcessor(sdk);
    if (replaceDefaultProcessors) sdk.setTraceProcessors([processor]);
    else sdk.addTraceProcessor(processor);
    installed = { processor, sdk };
  } else if (replaceDefaultProcessors) {
    sdk.setTraceProcessors([installed.processor]);
  }
  const { processor } = installed;
  processor.enabled = true;
  // Lets a `traceToolCall` inside an Agents SDK tool claim the call: one row, the helper's.
  unregisterToolScope ??= registerExternalToolScope(() => {
    const span = sdk.getCurrentSpan();
    return span?.spanData?.type === 'function' ? span : undefined;
  });
  return {
    disable() {
      processor.enabled = false;
      unregisterToolScope?.();
      unregisterToolScope = undefined;
    },
  };
}
