import { type Attributes, SpanStatusCode } from '@opentelemetry/api';
import { AI_AUDIT_ACTIONS } from '../../actions.js';
import { AUDIT_ATTRS, GEN_AI_ATTRS, GEN_AI_GUARDRAIL_ATTRS } from '../../attributes.js';
import { parsedJson, type SpanMapping } from './span-mapping.js';
import type { SpanRecogniser } from './span-recogniser.js';

/**
 * Inference spans of the OTel GenAI semantic conventions (`@opentelemetry/instrumentation-openai`,
 * AI SDK v7 with `@ai-sdk/otel`, …). Older instrumentations still write `gen_ai.system` and the
 * `prompt_tokens`/`completion_tokens` names, so both generations are read.
 */
const INFERENCE: SpanMapping = {
  action: AI_AUDIT_ACTIONS.CHAT_MESSAGE,
  model: GEN_AI_ATTRS.REQUEST_MODEL,
  responseModel: GEN_AI_ATTRS.RESPONSE_MODEL,
  provider: [GEN_AI_ATTRS.PROVIDER_NAME, 'gen_ai.system'],
  inputTokens: [GEN_AI_ATTRS.USAGE_INPUT_TOKENS, 'gen_ai.usage.prompt_tokens'],
  outputTokens: [GEN_AI_ATTRS.USAGE_OUTPUT_TOKENS, 'gen_ai.usage.completion_tokens'],
  conversationId: GEN_AI_ATTRS.CONVERSATION_ID,
  agentName: GEN_AI_ATTRS.AGENT_NAME,
  prompt: inputMessages,
  completion: (a) => parsedJson(a[GEN_AI_ATTRS.OUTPUT_MESSAGES]),
};

/**
 * An agent invocation (`invoke_agent`, AI SDK v7's root span of `generateText`/`streamText`/an
 * Agent's `generate`) is recorded as a task the agent ran for the actor: `ai.task_completed`, or
 * `ai.task_failed` when the span failed. Not a chat (the model calls beneath it are the chat rows,
 * each with its own usage: a chat row here would count them twice) and not a handoff (the
 * conventions carry no signal that tells a handoff from any other invocation). The task id is
 * `gen_ai.agent.id` when the source sets one, else the span's id, so `--task` finds the run.
 */
const AGENT_INVOCATION: SpanMapping = {
  action: AI_AUDIT_ACTIONS.TASK_COMPLETED,
  taskId: GEN_AI_ATTRS.AGENT_ID,
  taskName: (a) => a[GEN_AI_ATTRS.AGENT_NAME] ?? a[GEN_AI_ATTRS.REQUEST_MODEL],
  agentName: GEN_AI_ATTRS.AGENT_NAME,
  model: GEN_AI_ATTRS.REQUEST_MODEL,
  provider: [GEN_AI_ATTRS.PROVIDER_NAME, 'gen_ai.system'],
  conversationId: GEN_AI_ATTRS.CONVERSATION_ID,
  envelope: true,
};

/**
 * A guardrail run (`apply_guardrail`): `ai.guardrail_triggered` with the verdict as the guardrail
 * gave it in `metadata.guardrailDecision`. The conventions for guardrails are still moving, so
 * the names of the current draft (`gen_ai.guardrail.*`) and of the earlier one
 * (`gen_ai.security.*`, `gen_ai.guardian.*`) are both read.
 */
const GUARDRAIL_NAME = [
  GEN_AI_GUARDRAIL_ATTRS.NAME,
  'gen_ai.guardrail.component.name',
  'gen_ai.guardian.name',
];
const GUARDRAIL: SpanMapping = {
  action: AI_AUDIT_ACTIONS.GUARDRAIL_TRIGGERED,
  resourceType: () => 'guardrail',
  resourceId: GUARDRAIL_NAME,
  conversationId: GEN_AI_ATTRS.CONVERSATION_ID,
  agentName: GEN_AI_ATTRS.AGENT_NAME,
  metadata: {
    guardrailName: GUARDRAIL_NAME,
    guardrailDecision: [
      GEN_AI_GUARDRAIL_ATTRS.DECISION,
      'gen_ai.guardrail.verdict.type',
      'gen_ai.security.decision.type',
      'gen_ai.guardrail.outcome',
    ],
    guardrailAction: 'gen_ai.guardrail.action.type',
    guardrailTargetType: [GEN_AI_GUARDRAIL_ATTRS.TARGET_TYPE, 'gen_ai.security.target.type'],
    guardrailTargetId: [GEN_AI_GUARDRAIL_ATTRS.TARGET_ID, 'gen_ai.security.target.id'],
    guardrailPolicyId: [
      GEN_AI_GUARDRAIL_ATTRS.POLICY_ID,
      'gen_ai.guardrail.security.policy.id',
      'gen_ai.security.policy.id',
    ],
    guardrailReason: ['gen_ai.guardrail.verdict.reason', 'gen_ai.security.decision.reason'],
  },
};

/**
 * `gen_ai.operation.name` → record. `create_agent`, `agent_step`, `invoke_workflow`,
 * `embeddings`, … are deliberately absent: they are not actions anyone is accountable for, or
 * the chat and tool spans beneath them already are.
 */
export const GEN_AI_OPERATIONS_AUDITED: Readonly<Record<string, SpanMapping>> = {
  execute_tool: {
    action: AI_AUDIT_ACTIONS.TOOL_CALL,
    toolName: GEN_AI_ATTRS.TOOL_NAME,
    toolCallId: GEN_AI_ATTRS.TOOL_CALL_ID,
    toolArguments: GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS,
    conversationId: GEN_AI_ATTRS.CONVERSATION_ID,
    agentName: GEN_AI_ATTRS.AGENT_NAME,
    // Stamped by aitrail's AI SDK integration on a call that ran after an approval.
    approvalId: AUDIT_ATTRS.APPROVAL_ID,
  },
  chat: INFERENCE,
  generate_content: INFERENCE,
  text_completion: INFERENCE,
  invoke_agent: AGENT_INVOCATION,
  apply_guardrail: GUARDRAIL,
};

/** The input messages, with `gen_ai.system_instructions` (kept apart by the conventions) first. */
function inputMessages(attributes: Attributes): unknown {
  const messages = parsedJson(attributes[GEN_AI_ATTRS.INPUT_MESSAGES]);
  const instructions = parsedJson(attributes['gen_ai.system_instructions']);
  if (instructions === undefined) return messages;
  const system = { role: 'system', parts: instructions };
  if (messages === undefined) return [system];
  return Array.isArray(messages) ? [system, ...messages] : [system, messages];
}

export const genAiSemconvRecogniser: SpanRecogniser = {
  source: 'gen-ai',
  matchOn: { attribute: GEN_AI_ATTRS.OPERATION_NAME },
  mappings: GEN_AI_OPERATIONS_AUDITED,
  // The conventions ask for `gen_ai.operation.name` at span creation, for samplers.
  visibleAtStart: true,
  refine(span, mapping) {
    if (mapping !== AGENT_INVOCATION) return mapping;
    const failed = span.status.code === SpanStatusCode.ERROR;
    const { spanId } = span.spanContext();
    return {
      ...AGENT_INVOCATION,
      action: failed ? AI_AUDIT_ACTIONS.TASK_FAILED : AI_AUDIT_ACTIONS.TASK_COMPLETED,
      taskId: (a) => a[GEN_AI_ATTRS.AGENT_ID] ?? spanId,
    };
  },
};
