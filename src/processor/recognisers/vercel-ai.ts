import { AI_AUDIT_ACTIONS } from '../../actions.js';
import { AUDIT_ATTRS } from '../../attributes.js';
import { parsedJson, type SpanMapping } from './span-mapping.js';
import type { SpanRecogniser } from './span-recogniser.js';

/**
 * Vercel AI SDK v5/v6 (`experimental_telemetry: { isEnabled: true }`). The span name is the
 * operation id. One chat record per `generateText`/`streamText`/`…Object` call, from the outer
 * span: it holds the caller's prompt, the final answer and usage summed over all steps. The
 * per-step `….doGenerate`/`….doStream` spans are not recorded, so a tool loop of N model calls
 * is one chat row plus one row per tool call, never N+1 chat rows.
 */
const CHAT: SpanMapping = {
  action: AI_AUDIT_ACTIONS.CHAT_MESSAGE,
  model: 'ai.model.id',
  provider: (a) => providerFamily(a['ai.model.provider']),
  inputTokens: ['ai.usage.inputTokens', 'ai.usage.promptTokens'],
  outputTokens: ['ai.usage.outputTokens', 'ai.usage.completionTokens'],
  responseModel: 'ai.response.model',
  agentName: 'ai.telemetry.functionId',
  conversationId: 'ai.telemetry.metadata.conversationId',
  prompt: (a) => promptMessages(a['ai.prompt']),
  completion: (a) => assistantMessage(a['ai.response.text'] ?? parsedJson(a['ai.response.object'])),
};

export const VERCEL_AI_SPANS: Readonly<Record<string, SpanMapping>> = {
  'ai.toolCall': {
    action: AI_AUDIT_ACTIONS.TOOL_CALL,
    toolName: 'ai.toolCall.name',
    toolCallId: 'ai.toolCall.id',
    // Absent when the app sets `recordOutputs: false`: the SDK files arguments as outputs.
    toolArguments: 'ai.toolCall.args',
    // Stamped by `auditApprovedTools` (aitrail/ai-sdk) on a call that ran after an approval.
    approvalId: AUDIT_ATTRS.APPROVAL_ID,
    agentName: 'ai.telemetry.functionId',
    conversationId: 'ai.telemetry.metadata.conversationId',
  },
  'ai.generateText': CHAT,
  'ai.streamText': CHAT,
  'ai.generateObject': CHAT,
  'ai.streamObject': CHAT,
};

/** `openai.chat` → `openai`: the SDK's provider ids carry the API flavour after a dot. */
function providerFamily(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const dot = value.indexOf('.');
  return dot > 0 ? value.slice(0, dot) : value;
}

/** `ai.prompt` is `{ system?, prompt?, messages? }` as JSON; recorded as a message list. */
function promptMessages(value: unknown): unknown {
  const prompt = parsedJson(value);
  if (prompt === null || typeof prompt !== 'object' || Array.isArray(prompt)) return prompt;
  const { system, prompt: text, messages } = prompt as Record<string, unknown>;
  const out: unknown[] = [];
  if (system !== undefined) out.push({ role: 'system', content: system });
  if (typeof text === 'string') out.push({ role: 'user', content: text });
  else if (Array.isArray(text)) out.push(...text);
  if (Array.isArray(messages)) out.push(...messages);
  return out.length > 0 ? out : prompt;
}

function assistantMessage(content: unknown): unknown {
  return content === undefined ? undefined : [{ role: 'assistant', content }];
}

export const vercelAiRecogniser: SpanRecogniser = {
  source: 'vercel-ai',
  matchOn: 'spanName',
  mappings: VERCEL_AI_SPANS,
  // The operation id is the span name, and the SDK passes its attributes to startActiveSpan.
  visibleAtStart: true,
};
