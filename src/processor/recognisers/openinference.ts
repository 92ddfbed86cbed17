import type { Attributes } from '@opentelemetry/api';
import { AI_AUDIT_ACTIONS } from '../../actions.js';
import { parsedJson, type SpanMapping } from './span-mapping.js';
import type { SpanRecogniser } from './span-recogniser.js';

const SPAN_KIND = 'openinference.span.kind';

/** Tool spans the OpenAI Agents SDK integration makes for handoffs: `handoff_to_<agent>`. */
const HANDOFF_TOOL_PREFIX = 'handoff_to_';

const TOOL: SpanMapping = {
  action: AI_AUDIT_ACTIONS.TOOL_CALL,
  toolName: 'tool.name',
  toolCallId: ['tool_call.id', 'tool.id'],
  toolArguments: 'input.value',
  conversationId: 'session.id',
  agentName: 'agent.name',
};

const HANDOFF: SpanMapping = {
  action: AI_AUDIT_ACTIONS.AGENT_HANDOFF,
  handoffFrom: (a) => jsonField(a['input.value'], 'from_agent'),
  handoffTo: (a) =>
    jsonField(a['output.value'], 'to_agent') ??
    String(a['tool.name']).slice(HANDOFF_TOOL_PREFIX.length),
  agentName: (a) => jsonField(a['input.value'], 'from_agent'),
  conversationId: 'session.id',
};

/**
 * `openinference.span.kind` → record. AGENT and CHAIN spans are envelopes of the LLM and TOOL
 * spans beneath them, which are recorded one by one; RETRIEVER, EMBEDDING, GUARDRAIL, … are
 * not audit actions. OpenInference sets every attribute after the span started, so the sampler
 * cannot see these spans coming (`visibleAtStart: false`): under a sampler that drops their trace
 * they are never recorded, and they are classified in `onEnd` only.
 */
export const OPENINFERENCE_KINDS_AUDITED: Readonly<Record<string, SpanMapping>> = {
  TOOL,
  LLM: {
    action: AI_AUDIT_ACTIONS.CHAT_MESSAGE,
    model: 'llm.model_name',
    provider: ['llm.provider', 'llm.system'],
    inputTokens: 'llm.token_count.prompt',
    outputTokens: 'llm.token_count.completion',
    conversationId: 'session.id',
    agentName: 'agent.name',
    prompt: (a) => flattenedList(a, 'llm.input_messages.', 'message'),
    completion: (a) => flattenedList(a, 'llm.output_messages.', 'message'),
  },
};

function jsonField(value: unknown, key: string): string | undefined {
  const parsed = parsedJson(value);
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const field = (parsed as Record<string, unknown>)[key];
  return typeof field === 'string' ? field : undefined;
}

/**
 * Rebuilds a list OpenInference flattened into attributes, e.g. `llm.input_messages.0.message.role`
 * → `[{ role }]`. Deeper paths (`…tool_calls.0.tool_call.id`) become nested objects.
 */
function flattenedList(attributes: Attributes, prefix: string, wrapper: string): unknown {
  const items: Record<string, unknown>[] = [];
  for (const key of Object.keys(attributes)) {
    if (!key.startsWith(prefix)) continue;
    const path = key.slice(prefix.length).split('.');
    const index = Number(path[0]);
    if (!Number.isInteger(index) || index < 0 || index > 1_000) continue;
    const rest = path[1] === wrapper ? path.slice(2) : path.slice(1);
    if (rest.length === 0) continue;
    items[index] ??= {};
    setPath(items[index] as Record<string, unknown>, rest, attributes[key]);
  }
  const list = items.filter((item) => item !== undefined);
  return list.length > 0 ? list : undefined;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const segment of path.slice(0, -1)) {
    if (segment === '__proto__') return;
    const next = node[segment];
    if (next === null || typeof next !== 'object') node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  const last = path[path.length - 1] as string;
  if (last !== '__proto__') node[last] = value;
}

export const openInferenceRecogniser: SpanRecogniser = {
  source: 'openinference',
  matchOn: { attribute: SPAN_KIND },
  mappings: OPENINFERENCE_KINDS_AUDITED,
  visibleAtStart: false,
  refine(span, mapping) {
    const toolName = span.attributes['tool.name'];
    const isHandoff = typeof toolName === 'string' && toolName.startsWith(HANDOFF_TOOL_PREFIX);
    return mapping === TOOL && isHandoff ? HANDOFF : mapping;
  },
};
