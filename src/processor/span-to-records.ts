import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import {
  ATTR_ERROR_TYPE,
  ATTR_EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_TYPE,
  ATTR_SERVICE_NAME,
} from '@opentelemetry/semantic-conventions';
import { AI_AUDIT_ACTIONS, AUDIT_OUTCOMES } from '../actions.js';
import { AUDIT_ATTRS, GEN_AI_ATTRS } from '../attributes.js';
import type { CaptureContent } from '../instrument/content-capture.js';
import type { SanitizedValues } from '../instrument/sanitized-values.js';
import { toStorableString } from '../sanitize/string-hygiene.js';
import type { JsonValue, Redactor } from '../sanitize/types.js';
import type { AuditRecord } from '../store/audit-record.js';
import type { AiAuditMetadata } from '../store/metadata.js';
import type { RedactedTextMemo } from './redacted-text-memo.js';
import { hrTimeToIsoMicros, hrTimeToMillis } from './span-time.js';

export interface MappingEnvironment {
  serviceName: string | null;
  redactor: Redactor;
  /** Prompt and completion capture (default `redacted`): `none` drops them, `full` masks secrets only. */
  captureContent?: CaptureContent;
  secretsOnlyRedactor?: Redactor;
  /** What this pipeline's helpers already sanitized, reused instead of redacting twice. */
  sanitized?: SanitizedValues;
  /** Short texts already redacted by `redactor` (a processor's; see `RedactedTextMemo`). */
  memo?: RedactedTextMemo;
  /**
   * Held values (tool params, chat content) not redacted yet go into the record as an
   * `UnredactedValue`, for a writer on a thread of its own to redact there. Only for records
   * handed straight to such a writer: anything else must see redacted values.
   */
  leaveHeldUnredacted?: boolean;
}

/** Longest value kept in an indexed text column; longer values are cut with a marker. */
const MAX_COLUMN_LENGTH = 512;

function text(value: AttributeValue | undefined): string | null {
  if (typeof value === 'string') return value === '' ? null : clip(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function clip(value: string): string {
  const storable = toStorableString(value);
  return storable.length > MAX_COLUMN_LENGTH
    ? `${storable.slice(0, MAX_COLUMN_LENGTH)}…[truncated]`
    : storable;
}

/**
 * A text column or metadata field: storable, clipped, and redacted. Identity (actor, tenant,
 * approver) and the action and outcome are kept as given; every other string may carry what
 * an app put into it, so it goes through the redactor like any free text.
 */
function redactedText(
  value: AttributeValue | undefined,
  redactor: Redactor,
  memo?: RedactedTextMemo,
): string | null {
  const plain = text(value);
  if (plain === null) return null;
  return memo?.redactor === redactor ? memo.redact(plain) : redactor.redactText(plain);
}

/** A short repeated name through the environment's cache, else through its redactor. */
export function redactedName(name: string, env: MappingEnvironment): string {
  return env.memo?.redactor === env.redactor
    ? env.memo.redact(name)
    : env.redactor.redactText(name);
}

/** aitrail's own action names: constants, stored as they are. */
const DECLARED_ACTIONS: ReadonlySet<string> = new Set(Object.values(AI_AUDIT_ACTIONS));

/**
 * The action column. Helpers only pass names, but any span may carry `audit.action` (an app's
 * own tracer, a library): what it holds is stored only after the redactor has seen it.
 */
function actionOf(value: AttributeValue | undefined, env: MappingEnvironment): string {
  const plain = text(value) as string;
  return DECLARED_ACTIONS.has(plain) ? plain : redactedName(plain, env);
}

function num(value: AttributeValue | undefined): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

/** A JSON-string attribute, parsed and redacted; unparseable text is redacted as text. */
function jsonAttribute(
  value: AttributeValue | undefined,
  redactor: Redactor,
): JsonValue | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return redactor.redactValue(value);
  try {
    return redactor.redactValue(JSON.parse(value));
  } catch {
    return redactor.redactText(value);
  }
}

function setIf<K extends keyof AiAuditMetadata>(
  m: AiAuditMetadata,
  key: K,
  value: AiAuditMetadata[K] | null | undefined,
): void {
  if (value !== undefined && value !== null) m[key] = value;
}

/**
 * Everything an audit record says, read from one attribute map (a span's, or an event's
 * merged over its span's). Free text is redacted here, whoever produced the attributes.
 */
function recordFields(attrs: Attributes, env: MappingEnvironment, span?: ReadableSpan) {
  const { redactor } = env;
  const safe = (value: AttributeValue | undefined) => redactedText(value, redactor, env.memo);
  // A helper already sanitized these JSON attributes with this very redactor: reuse the value.
  const json = (key: string, using: Redactor) =>
    (span && env.sanitized?.get(span, key, using)) ?? jsonAttribute(attrs[key], using);
  // Typed as what it becomes: the writer redacts it before anything reads the record.
  const held = (key: string, using: Redactor) =>
    (span &&
      env.leaveHeldUnredacted &&
      (env.sanitized?.unredacted(span, key, using) as JsonValue | undefined)) ||
    json(key, using);
  const metadata: AiAuditMetadata = {};
  const extra = json(AUDIT_ATTRS.METADATA, redactor);
  if (extra !== null && typeof extra === 'object' && !Array.isArray(extra))
    Object.assign(metadata, extra);

  const conversationId = safe(attrs[GEN_AI_ATTRS.CONVERSATION_ID]);
  const taskId = safe(attrs[AUDIT_ATTRS.TASK_ID]);
  const agentName = safe(attrs[GEN_AI_ATTRS.AGENT_NAME]);
  const toolName = safe(attrs[GEN_AI_ATTRS.TOOL_NAME]);
  const approvalId = safe(attrs[AUDIT_ATTRS.APPROVAL_ID]);
  setIf(metadata, 'conversationId', conversationId);
  setIf(metadata, 'taskId', taskId);
  setIf(metadata, 'taskName', safe(attrs[AUDIT_ATTRS.TASK_NAME]));
  setIf(metadata, 'agentName', agentName);
  setIf(metadata, 'toolName', toolName);
  setIf(metadata, 'toolCallId', safe(attrs[GEN_AI_ATTRS.TOOL_CALL_ID]));
  setIf(metadata, 'toolParams', held(GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS, redactor));
  setIf(metadata, 'approvalId', approvalId);
  setIf(metadata, 'approverId', text(attrs[AUDIT_ATTRS.APPROVER_ID]));
  setIf(metadata, 'approverType', text(attrs[AUDIT_ATTRS.APPROVER_TYPE]));
  setIf(metadata, 'handoffFrom', safe(attrs[AUDIT_ATTRS.HANDOFF_FROM]));
  setIf(metadata, 'handoffTo', safe(attrs[AUDIT_ATTRS.HANDOFF_TO]));
  setIf(metadata, 'budgetUsed', num(attrs[AUDIT_ATTRS.BUDGET_USED]));
  setIf(metadata, 'budgetLimit', num(attrs[AUDIT_ATTRS.BUDGET_LIMIT]));
  setIf(metadata, 'budgetUnit', safe(attrs[AUDIT_ATTRS.BUDGET_UNIT]));
  setIf(metadata, 'rateLimitKey', safe(attrs[AUDIT_ATTRS.RATE_LIMIT_KEY]));
  setIf(metadata, 'rateLimit', num(attrs[AUDIT_ATTRS.RATE_LIMIT_LIMIT]));
  setIf(metadata, 'rateLimitWindowMs', num(attrs[AUDIT_ATTRS.RATE_LIMIT_WINDOW_MS]));
  setIf(metadata, 'retryAfterMs', num(attrs[AUDIT_ATTRS.RATE_LIMIT_RETRY_AFTER_MS]));
  setIf(metadata, 'model', safe(attrs[GEN_AI_ATTRS.REQUEST_MODEL]));
  setIf(metadata, 'responseModel', safe(attrs[GEN_AI_ATTRS.RESPONSE_MODEL]));
  setIf(metadata, 'provider', safe(attrs[GEN_AI_ATTRS.PROVIDER_NAME]));
  setIf(metadata, 'inputTokens', num(attrs[GEN_AI_ATTRS.USAGE_INPUT_TOKENS]));
  setIf(metadata, 'outputTokens', num(attrs[GEN_AI_ATTRS.USAGE_OUTPUT_TOKENS]));
  const capture = env.captureContent ?? 'redacted';
  if (capture !== 'none') {
    const contentRedactor = capture === 'full' ? (env.secretsOnlyRedactor ?? redactor) : redactor;
    setIf(metadata, 'content', held(GEN_AI_ATTRS.INPUT_MESSAGES, contentRedactor));
    setIf(metadata, 'completion', held(GEN_AI_ATTRS.OUTPUT_MESSAGES, contentRedactor));
  }
  setIf(metadata, 'reason', safe(attrs[AUDIT_ATTRS.REASON]));

  return {
    tenantId: text(attrs[AUDIT_ATTRS.TENANT_ID]),
    actorType: text(attrs[AUDIT_ATTRS.ACTOR_TYPE]),
    actorId: text(attrs[AUDIT_ATTRS.ACTOR_ID]),
    subjectId: text(attrs[AUDIT_ATTRS.SUBJECT_ID]),
    action: actionOf(attrs[AUDIT_ATTRS.ACTION], env),
    outcome: text(attrs[AUDIT_ATTRS.OUTCOME]),
    resourceType: safe(attrs[AUDIT_ATTRS.RESOURCE_TYPE]),
    resourceId: safe(attrs[AUDIT_ATTRS.RESOURCE_ID]),
    conversationId,
    taskId,
    agentName,
    toolName,
    approvalId,
    metadata,
  };
}

function errorOf(span: ReadableSpan, redactor: Redactor): AiAuditMetadata['error'] | undefined {
  const exception = span.events.find((e) => e.name === 'exception');
  const type = exception?.attributes?.[ATTR_EXCEPTION_TYPE] ?? span.attributes[ATTR_ERROR_TYPE];
  const message = exception?.attributes?.[ATTR_EXCEPTION_MESSAGE] ?? span.status.message;
  if (type === undefined && message === undefined && span.status.code !== SpanStatusCode.ERROR)
    return undefined;
  const error: { type?: string; message?: string } = {};
  if (type !== undefined) error.type = redactedText(String(type), redactor) ?? '';
  if (message !== undefined && message !== '') error.message = redactor.redactText(String(message));
  return error;
}

function outcomeOf(declared: string | null, failed: boolean): string {
  if (declared !== null && (AUDIT_OUTCOMES as readonly string[]).includes(declared))
    return declared;
  return failed ? 'failure' : 'success';
}

/** Who and where: what an event's record takes from its span when the event does not say. */
const INHERITED_BY_EVENTS = [
  AUDIT_ATTRS.ACTOR_TYPE,
  AUDIT_ATTRS.ACTOR_ID,
  AUDIT_ATTRS.TENANT_ID,
  AUDIT_ATTRS.SUBJECT_ID,
  GEN_AI_ATTRS.CONVERSATION_ID,
  GEN_AI_ATTRS.AGENT_NAME,
] as const;

/** Does one of these span events carry `audit.action` (an audit record of its own)? */
export function hasAuditEvent(events: ReadableSpan['events']): boolean {
  for (let i = 0; i < events.length; i++) {
    if (events[i]?.attributes?.[AUDIT_ATTRS.ACTION] !== undefined) return true;
  }
  return false;
}

/** Builds one record from an attribute map in aitrail's vocabulary, with the span's place and time. */
function buildRecord(
  span: ReadableSpan,
  attrs: Attributes,
  env: MappingEnvironment,
  eventId: string,
  occurredAt: string,
  extra: AiAuditMetadata,
  failed: boolean,
): AuditRecord {
  const { traceId, spanId } = span.spanContext();
  const serviceName = text(span.resource?.attributes?.[ATTR_SERVICE_NAME]) ?? env.serviceName;
  // A tracer's name is whatever the library passed to getTracer(): free text like any other.
  const scopeName = text(span.instrumentationScope?.name);
  const source = scopeName === null ? 'unknown' : redactedName(scopeName, env);
  const fields = recordFields(attrs, env, attrs === span.attributes ? span : undefined);
  // `extra` may name a recogniser as the source; otherwise the instrumentation scope does.
  const metadata: AiAuditMetadata = { ...fields.metadata, source, ...extra };
  if (fields.actorId === null) metadata.actorSource = 'default';
  const actorType = fields.actorId === null ? 'service' : (fields.actorType ?? 'user');
  return {
    eventId,
    occurredAt,
    tenantId: fields.tenantId,
    actorType,
    actorId: fields.actorId ?? serviceName ?? 'unknown',
    // Whose data this is: as stamped, else the acting user themself.
    subjectId: fields.subjectId ?? (actorType === 'user' ? fields.actorId : null),
    action: fields.action,
    outcome: outcomeOf(fields.outcome, failed),
    resourceType: fields.resourceType,
    resourceId: fields.resourceId,
    conversationId: fields.conversationId,
    taskId: fields.taskId,
    agentName: fields.agentName,
    toolName: fields.toolName,
    approvalId: fields.approvalId,
    metadata,
    traceId,
    spanId,
    serviceName,
  };
}

/**
 * The record of the span itself, read from `attrs`: the span's own attributes, or a
 * recogniser's translation of a third-party span's attributes into aitrail's vocabulary.
 */
export function spanRecord(
  span: ReadableSpan,
  attrs: Attributes,
  env: MappingEnvironment,
  extra: AiAuditMetadata = {},
): AuditRecord {
  const { traceId, spanId } = span.spanContext();
  const failed = span.status.code === SpanStatusCode.ERROR;
  const spanExtra: AiAuditMetadata = {
    spanName: redactedText(span.name, env.redactor, env.memo) ?? '',
    durationMs: hrTimeToMillis(span.duration),
  };
  const error = failed ? errorOf(span, env.redactor) : undefined;
  if (error) spanExtra.error = error;
  return buildRecord(
    span,
    attrs,
    env,
    `${traceId}:${spanId}`,
    hrTimeToIsoMicros(span.startTime),
    { ...spanExtra, ...extra },
    failed,
  );
}

/**
 * One record for the span if it carries `audit.action`, and one per event that does.
 * The idempotency key is `{trace_id}:{span_id}` (`:{event index}` for events).
 */
export function spanToRecords(span: ReadableSpan, env: MappingEnvironment): AuditRecord[] {
  const records: AuditRecord[] = [];
  if (text(span.attributes[AUDIT_ATTRS.ACTION]) !== null) {
    records.push(spanRecord(span, span.attributes, env));
  }
  span.events.forEach((event, index) => {
    if (text(event.attributes?.[AUDIT_ATTRS.ACTION]) === null) return;
    records.push(eventRecord(span, index, event.attributes ?? {}, env));
  });
  return records;
}

/**
 * The record of one span event, read from `eventAttributes` (the event's own, or a recogniser's
 * translation of them) over what it inherits from its span. `{trace_id}:{span_id}:{index}`.
 */
export function eventRecord(
  span: ReadableSpan,
  index: number,
  eventAttributes: Attributes,
  env: MappingEnvironment,
  extra: AiAuditMetadata = {},
): AuditRecord {
  const { traceId, spanId } = span.spanContext();
  const event = span.events[index];
  const attrs: Attributes = {};
  for (const key of INHERITED_BY_EVENTS) attrs[key] = span.attributes[key];
  Object.assign(attrs, eventAttributes);
  return buildRecord(
    span,
    attrs,
    env,
    `${traceId}:${spanId}:${index}`,
    hrTimeToIsoMicros(event?.time ?? span.startTime),
    {
      spanName: redactedText(span.name, env.redactor, env.memo) ?? '',
      eventName: redactedText(event?.name, env.redactor, env.memo) ?? '',
      ...extra,
    },
    false,
  );
}
