import type { Attributes, AttributeValue } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { AUDIT_ATTRS, GEN_AI_ATTRS } from '../../attributes.js';
import type { JsonValue } from '../../sanitize/types.js';
import type { AuditRecord } from '../../store/audit-record.js';
import type { AiAuditMetadata } from '../../store/metadata.js';
import { redactedName, spanRecord } from '../span-to-records.js';
import type { RecogniserEnvironment } from './span-recogniser.js';

/** Where a field comes from: an attribute key, several (the first present wins), or a reader. */
export type FieldSource = string | readonly string[] | ((attributes: Attributes) => unknown);

/**
 * One row of a recogniser's table: the action a matching span is recorded as, and which of its
 * attributes feed which audit field. Column fields must yield strings or numbers.
 */
export interface SpanMapping {
  action: string;
  toolName?: FieldSource;
  toolCallId?: FieldSource;
  /** Tool arguments (JSON text or a value); redacted like `traceToolCall` params. */
  toolArguments?: FieldSource;
  model?: FieldSource;
  responseModel?: FieldSource;
  provider?: FieldSource;
  inputTokens?: FieldSource;
  outputTokens?: FieldSource;
  conversationId?: FieldSource;
  agentName?: FieldSource;
  handoffFrom?: FieldSource;
  handoffTo?: FieldSource;
  /** The approval that let a gated tool call run (`approval_id` on the tool row). */
  approvalId?: FieldSource;
  taskId?: FieldSource;
  taskName?: FieldSource;
  /** What the action went through (an MCP server, say): `resource_type` and `resource_id`. */
  resourceType?: FieldSource;
  resourceId?: FieldSource;
  /** Further `metadata` keys, each from its source (strings redacted, numbers kept). */
  metadata?: Readonly<Record<string, FieldSource>>;
  /**
   * The span is an envelope of other audited spans (an agent invocation around its chats and
   * tool calls): for telling duplicates apart it is transparent, so a helper span around it
   * still covers the recognised spans inside it.
   */
  envelope?: boolean;
  /** Prompt and completion: recorded only as the capture policy allows. */
  prompt?: FieldSource;
  completion?: FieldSource;
}

type ColumnField = Exclude<
  keyof SpanMapping,
  'action' | 'prompt' | 'completion' | 'envelope' | 'metadata'
>;

/** Each field's attribute in aitrail's own vocabulary, which the shared span mapping reads. */
const TARGET_ATTRIBUTES: Record<ColumnField, string> = {
  toolName: GEN_AI_ATTRS.TOOL_NAME,
  toolCallId: GEN_AI_ATTRS.TOOL_CALL_ID,
  toolArguments: GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS,
  model: GEN_AI_ATTRS.REQUEST_MODEL,
  responseModel: GEN_AI_ATTRS.RESPONSE_MODEL,
  provider: GEN_AI_ATTRS.PROVIDER_NAME,
  inputTokens: GEN_AI_ATTRS.USAGE_INPUT_TOKENS,
  outputTokens: GEN_AI_ATTRS.USAGE_OUTPUT_TOKENS,
  conversationId: GEN_AI_ATTRS.CONVERSATION_ID,
  agentName: GEN_AI_ATTRS.AGENT_NAME,
  handoffFrom: AUDIT_ATTRS.HANDOFF_FROM,
  handoffTo: AUDIT_ATTRS.HANDOFF_TO,
  approvalId: AUDIT_ATTRS.APPROVAL_ID,
  taskId: AUDIT_ATTRS.TASK_ID,
  taskName: AUDIT_ATTRS.TASK_NAME,
  resourceType: AUDIT_ATTRS.RESOURCE_TYPE,
  resourceId: AUDIT_ATTRS.RESOURCE_ID,
};

const COLUMN_FIELDS = Object.keys(TARGET_ATTRIBUTES) as ColumnField[];

/** Who acted, stamped on every span by `AuditSpanProcessor.onStart` inside `withAuditContext`. */
const IDENTITY_ATTRIBUTES = [
  AUDIT_ATTRS.ACTOR_TYPE,
  AUDIT_ATTRS.ACTOR_ID,
  AUDIT_ATTRS.TENANT_ID,
  AUDIT_ATTRS.SUBJECT_ID,
] as const;

export function readField(attributes: Attributes, source: FieldSource): unknown {
  if (typeof source === 'function') return source(attributes);
  if (typeof source === 'string') return attributes[source];
  for (const key of source) {
    const value = attributes[key];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/**
 * A third-party span's record, built by translating its attributes into aitrail's vocabulary
 * and running the same mapping as aitrail's own spans. Only translated attributes are read, so
 * nothing the source adds (prompts in `gen_ai.input.messages`, say) bypasses the policy.
 */
export function recordFromMapping(
  span: ReadableSpan,
  mapping: SpanMapping,
  env: RecogniserEnvironment,
  source: string,
): AuditRecord {
  const attributes = span.attributes;
  const translated: Attributes = { [AUDIT_ATTRS.ACTION]: mapping.action };
  for (const key of IDENTITY_ATTRIBUTES) {
    const value = attributes[key];
    if (value !== undefined) translated[key] = value;
  }
  for (const field of COLUMN_FIELDS) {
    const fieldSource = mapping[field];
    if (fieldSource === undefined) continue;
    const value = readField(attributes, fieldSource);
    if (typeof value === 'string' || typeof value === 'number') {
      translated[TARGET_ATTRIBUTES[field]] = value;
    }
  }
  const extra: AiAuditMetadata = {
    source,
    instrumentationScope: redactedName(span.instrumentationScope.name, env),
  };
  for (const [key, fieldSource] of Object.entries(mapping.metadata ?? {})) {
    const value = readField(attributes, fieldSource);
    if (typeof value === 'number' && Number.isFinite(value)) extra[key] = value;
    else if (typeof value === 'string' && value !== '') extra[key] = env.redactor.redactText(value);
  }
  const content = mapping.prompt && capturedContent(env, readField(attributes, mapping.prompt));
  if (content !== undefined) extra.content = content;
  const completion =
    mapping.completion && capturedContent(env, readField(attributes, mapping.completion));
  if (completion !== undefined) extra.completion = completion;
  return spanRecord(span, translated, env, extra);
}

/** The capture policy of `traceChat`, applied to content read from a third-party span. */
export function capturedContent(
  env: RecogniserEnvironment,
  content: unknown,
): JsonValue | undefined {
  if (env.captureContent === 'none' || content === undefined || content === null) return undefined;
  const redactor = env.captureContent === 'full' ? env.secretsOnlyRedactor : env.redactor;
  return redactor.redactValue(content);
}

/** A JSON-text attribute parsed, or the text itself when it is not JSON. */
export function parsedJson(value: AttributeValue | unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
