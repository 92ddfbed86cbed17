import { type Attributes, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_STACKTRACE,
  ATTR_EXCEPTION_TYPE,
} from '@opentelemetry/semantic-conventions';
import { AUDIT_ATTRS, GEN_AI_ATTRS } from '../attributes.js';
import { activePipelinePolicy } from '../pipeline/pipeline-policy.js';
import type { JsonValue, Redactor } from '../sanitize/types.js';
import { VERSION } from '../version.js';
import { getAuditContext } from './audit-context.js';
import type { CommonOptions } from './common-options.js';

export const INSTRUMENTATION_SCOPE = 'aitrail';

function tracer() {
  return trace.getTracer(INSTRUMENTATION_SCOPE, VERSION);
}

/**
 * Identity attributes for a helper span: an explicit `actor`/`tenantId` wins over the audit
 * context. Set at span start so samplers and `onStart` see them.
 */
export function identityAttributes(options: CommonOptions): Attributes {
  const context = getAuditContext();
  const actor = options.actor ?? context?.actor;
  const tenantId = options.tenantId ?? context?.tenantId;
  const attributes: Attributes = {};
  if (actor) {
    attributes[AUDIT_ATTRS.ACTOR_TYPE] = actor.type;
    attributes[AUDIT_ATTRS.ACTOR_ID] = actor.id;
  }
  if (tenantId !== undefined) attributes[AUDIT_ATTRS.TENANT_ID] = tenantId;
  if (options.conversationId !== undefined)
    attributes[GEN_AI_ATTRS.CONVERSATION_ID] = options.conversationId;
  if (options.agentName !== undefined) attributes[GEN_AI_ATTRS.AGENT_NAME] = options.agentName;
  return attributes;
}

/**
 * An audit span that is not recording makes no row: no SDK is running (before
 * `initAuditTelemetry`, after `shutdown`), or the app's own SDK lacks `AuditSampler`. Say so once
 * per pipeline.
 */
function warnNotRecording(name: string): void {
  if (!activePipelinePolicy().firstTime('not-recording')) return;
  console.warn(
    `aitrail: "${name}" was not recorded: initAuditTelemetry() has not run (or has shut down), or the OpenTelemetry SDK in use does not wrap its sampler in AuditSampler. Audit records made before the SDK starts are lost.`,
  );
}

/** A JSON attribute a helper set, with the redactor and value it came from. */
export type SanitizedAttribute = readonly [attribute: string, redactor: Redactor, value: JsonValue];

/** Where a recorded event lives: its span, and the `event_id` of its audit row. */
export interface AuditEventRef {
  traceId: string;
  spanId: string;
  eventId: string;
}

/** Lets the active pipeline's processor reuse what the helper already sanitized. */
function rememberAll(span: object, sanitized: readonly SanitizedAttribute[]): void {
  if (sanitized.length === 0) return;
  const { sanitized: cache } = activePipelinePolicy();
  for (const [attribute, redactor, value] of sanitized)
    cache.remember(span, attribute, redactor, value);
}

/** A short span of its own, child of the active span, ended at once: the record never waits. */
export function emitAuditSpan(
  name: string,
  attributes: Attributes,
  sanitized: readonly SanitizedAttribute[] = [],
): AuditEventRef {
  const span = tracer().startSpan(name, { kind: SpanKind.INTERNAL, attributes });
  if (!span.isRecording()) warnNotRecording(name);
  rememberAll(span, sanitized);
  span.end();
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId, eventId: `${traceId}:${spanId}` };
}

/**
 * Runs `fn` inside an active span. Outcome `success` when it returns; on a throw, `failure`, a
 * redacted exception event, and the original error rethrown unchanged.
 */
export function traceInSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  fn: (span: Span) => T | Promise<T>,
  onFailure?: (span: Span) => void,
  sanitized: readonly SanitizedAttribute[] = [],
): Promise<Awaited<T>> {
  return tracer().startActiveSpan(name, { kind, attributes }, async (span): Promise<Awaited<T>> => {
    if (!span.isRecording()) warnNotRecording(name);
    rememberAll(span, sanitized);
    try {
      const result = await fn(span);
      if (span.isRecording()) span.setAttribute(AUDIT_ATTRS.OUTCOME, 'success');
      return result;
    } catch (error) {
      recordFailure(span, error);
      onFailure?.(span);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Records a thrown value on the span with its message and stack already redacted. */
export function recordFailure(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  const { redactor } = activePipelinePolicy();
  const type = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : String(error);
  const eventAttributes: Attributes = {
    [ATTR_EXCEPTION_TYPE]: type,
    [ATTR_EXCEPTION_MESSAGE]: redactor.redactText(message),
  };
  if (error instanceof Error && error.stack) {
    eventAttributes[ATTR_EXCEPTION_STACKTRACE] = redactor.redactText(error.stack);
  }
  span.addEvent('exception', eventAttributes);
  span.setAttribute(ATTR_ERROR_TYPE, type);
  span.setAttribute(AUDIT_ATTRS.OUTCOME, 'failure');
  span.setStatus({ code: SpanStatusCode.ERROR, message: redactor.redactText(message) });
}
