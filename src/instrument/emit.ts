import {
  type Attributes,
  diag,
  type HrTime,
  type Span,
  SpanKind,
  SpanStatusCode,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_EXCEPTION_MESSAGE,
  ATTR_EXCEPTION_STACKTRACE,
  ATTR_EXCEPTION_TYPE,
} from '@opentelemetry/semantic-conventions';
import { AUDIT_ATTRS, GEN_AI_ATTRS } from '../attributes.js';
import { activePipelinePolicy } from '../pipeline/pipeline-policy.js';
import type { JsonValue, Redactor } from '../sanitize/types.js';
import { seenByAuditProcessor, whyNotAudited, whyNotRecording } from '../telemetry/registration.js';
import { getAuditContext, subjectOf } from './audit-context.js';
import type { CommonOptions } from './common-options.js';
import type { HeldValue } from './sanitized-values.js';

export { INSTRUMENTATION_SCOPE } from './helper-tracer.js';

/** Epoch milliseconds → `[seconds, nanoseconds]`, as `@opentelemetry/core` computes it. */
function millisToHrTime(epochMillis: number): HrTime {
  return [Math.trunc(epochMillis / 1e3), Math.round((epochMillis % 1e3) * 1e6)];
}

/**
 * Now, at performance-clock resolution: `@opentelemetry/core`'s `hrTime()`, computed here so the
 * root entry loads only `@opentelemetry/api` (core comes with the SDK parts).
 */
function hrTime(): HrTime {
  const [originSeconds, originNanos] = millisToHrTime(performance.timeOrigin);
  const [nowSeconds, nowNanos] = millisToHrTime(performance.now());
  const nanos = originNanos + nowNanos;
  return nanos >= 1e9
    ? [originSeconds + nowSeconds + 1, nanos - 1e9]
    : [originSeconds + nowSeconds, nanos];
}

function tracer() {
  return activePipelinePolicy().helperTracer.get();
}

/**
 * Identity attributes for a helper span, written into `attributes`: an explicit
 * `actor`/`tenantId` wins over the audit context. Set at span start so samplers and `onStart`
 * see them.
 */
export function identityAttributes(
  options: CommonOptions,
  attributes: Attributes = {},
): Attributes {
  const context = getAuditContext();
  const actor = options.actor ?? context?.actor;
  const tenantId = options.tenantId ?? context?.tenantId;
  // An explicit actor brings its own default subject; the context's subject goes with its actor.
  const subject = options.subject ?? subjectOf(actor, options.actor ? undefined : context?.subject);
  const conversationId = options.conversationId ?? context?.conversationId;
  if (actor) {
    attributes[AUDIT_ATTRS.ACTOR_TYPE] = actor.type;
    attributes[AUDIT_ATTRS.ACTOR_ID] = actor.id;
  }
  if (tenantId !== undefined) attributes[AUDIT_ATTRS.TENANT_ID] = tenantId;
  if (subject !== undefined) attributes[AUDIT_ATTRS.SUBJECT_ID] = subject;
  if (conversationId !== undefined) attributes[GEN_AI_ATTRS.CONVERSATION_ID] = conversationId;
  if (options.agentName !== undefined) attributes[GEN_AI_ATTRS.AGENT_NAME] = options.agentName;
  return attributes;
}

/**
 * An audit span that is not recording makes no row: no SDK is running (before
 * `initAuditTelemetry`, after `shutdown`), or the app's own SDK lacks `AuditSampler`. Say so once
 * per pipeline.
 */
function warnNotRecording(name: string): void {
  const policy = activePipelinePolicy();
  if (!policy.firstTime('not-recording')) return;
  // The name holds option values (`task <taskName>`): a log line is a sink too.
  console.warn(
    `aitrail: "${policy.redactor.redactText(name)}" was not recorded: ${whyNotRecording()}. Audit records made before the SDK starts are lost.`,
  );
}

/**
 * A recording audit span that no `AuditSpanProcessor` saw start makes no row either: the
 * registered provider is not the one carrying aitrail's processor (Sentry's own, or one another
 * SDK registered before the app's). Say so once per pipeline.
 */
function warnIfNotAudited(span: Span, name: string): void {
  const policy = activePipelinePolicy();
  if (seenByAuditProcessor(span) || !policy.firstTime('not-audited')) return;
  console.warn(
    `aitrail: "${policy.redactor.redactText(name)}" makes no audit row: ${whyNotAudited()}.`,
  );
}

/** A JSON attribute a helper set, with the redactor and value it came from. */
export type SanitizedAttribute = readonly [attribute: string, redactor: Redactor, value: JsonValue];

/**
 * A value a helper keeps beside its span rather than on it, under the attribute rows and
 * exported copies show it as (see `SanitizedValues.hold`).
 */
export type HeldAttribute = readonly [attribute: string, value: HeldValue];

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

/** Hands the active pipeline what the helper captured for `span`, to redact off the caller's turn. */
function holdAll(span: Span, held: readonly HeldAttribute[]): void {
  if (held.length === 0 || !span.isRecording()) return;
  const { sanitized: cache } = activePipelinePolicy();
  for (const [attribute, value] of held) cache.hold(span, attribute, value);
}

/** A short span of its own, child of the active span, ended at once: the record never waits. */
export function emitAuditSpan(
  name: string,
  attributes: Attributes,
  sanitized: readonly SanitizedAttribute[] = [],
): AuditEventRef {
  const span = tracer().startSpan(name, {
    kind: SpanKind.INTERNAL,
    attributes,
    startTime: hrTime(),
  });
  if (!span.isRecording()) warnNotRecording(name);
  else warnIfNotAudited(span, name);
  rememberAll(span, sanitized);
  span.end(hrTime());
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId, eventId: `${traceId}:${spanId}` };
}

/** What a helper adds around `fn` in `traceInSpan`. */
export interface SpanHooks<T> {
  /** On a throw, after the failure is recorded. */
  onFailure?: (span: Span) => void;
  /** Values kept beside the span for its row and exported copies (see `HeldAttribute`). */
  held?: readonly HeldAttribute[];
  /** With what `fn` resolved to, while the span records; a throw here never reaches the caller. */
  onResult?: (span: Span, result: Awaited<T>) => void;
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
  hooks: SpanHooks<T> = {},
): Promise<Awaited<T>> {
  // Without a start time the SDK takes Date.now(): milliseconds, and rows of one millisecond tie.
  const options = { kind, attributes, startTime: hrTime() };
  return tracer().startActiveSpan(name, options, (span): Promise<Awaited<T>> => {
    if (!span.isRecording()) warnNotRecording(name);
    else warnIfNotAudited(span, name);
    if (hooks.held !== undefined) holdAll(span, hooks.held);
    let returned: T | Promise<T>;
    let settled: boolean;
    try {
      returned = fn(span);
      // A value that cannot be awaited settles now: no extra promise turns on the caller's path.
      settled = !(returned instanceof Promise) && !isThenable(returned);
    } catch (error) {
      failed(span, error, hooks);
      return Promise.reject(error);
    }
    if (!settled) return settleLater(span, returned, hooks);
    succeeded(span, returned as Awaited<T>, hooks);
    return Promise.resolve(returned as Awaited<T>);
  });
}

/** Reading `then` may throw (a getter, a Proxy): the caller treats that as `fn` failing, as `await` would. */
function isThenable(value: unknown): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  return typeof (value as { then?: unknown }).then === 'function';
}

async function settleLater<T>(
  span: Span,
  pending: T | Promise<T>,
  hooks: SpanHooks<T>,
): Promise<Awaited<T>> {
  let result: Awaited<T>;
  try {
    result = await pending;
  } catch (error) {
    failed(span, error, hooks);
    throw error;
  }
  succeeded(span, result, hooks);
  return result;
}

function succeeded<T>(span: Span, result: Awaited<T>, hooks: SpanHooks<T>): void {
  if (span.isRecording()) {
    span.setAttribute(AUDIT_ATTRS.OUTCOME, 'success');
    recordResult(span, result, hooks.onResult);
  }
  endSpan(span);
}

/** Whatever `fn` threw goes back to the caller as it was: recording it must not replace it. */
function failed<T>(span: Span, error: unknown, hooks: SpanHooks<T>): void {
  try {
    recordFailure(span, error);
    hooks.onFailure?.(span);
  } catch {
    if (span.isRecording()) span.setAttribute(AUDIT_ATTRS.OUTCOME, 'failure');
  }
  endSpan(span);
}

/** A processor that throws as the span ends must not change what the caller gets back. */
function endSpan(span: Span): void {
  try {
    span.end(hrTime());
  } catch (error) {
    diag.error('aitrail: a span processor threw while a helper span ended', error);
  }
}

/** Recording what `fn` returned must not turn its success into a failure. */
function recordResult<T>(
  span: Span,
  result: T,
  onResult: ((span: Span, result: T) => void) | undefined,
): void {
  if (onResult === undefined) return;
  try {
    onResult(span, result);
  } catch {
    // The row keeps the outcome; only the result is missing.
  }
}

/**
 * Records a thrown value on the span with its message and stack already redacted. The outcome
 * is set first: a value that resists every inspection (a Proxy that throws on each trap, a
 * null-prototype object) still makes a `failure` row.
 */
export function recordFailure(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  span.setAttribute(AUDIT_ATTRS.OUTCOME, 'failure');
  const { redactor } = activePipelinePolicy();
  const thrown = describeThrown(error);
  const redact = (text: string) => {
    try {
      return redactor.redactText(text);
    } catch {
      return '[redaction failed]';
    }
  };
  const eventAttributes: Attributes = {
    [ATTR_EXCEPTION_TYPE]: thrown.type,
    [ATTR_EXCEPTION_MESSAGE]: redact(thrown.message),
  };
  if (thrown.stack) eventAttributes[ATTR_EXCEPTION_STACKTRACE] = redact(thrown.stack);
  span.addEvent('exception', eventAttributes);
  span.setAttribute(ATTR_ERROR_TYPE, thrown.type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: redact(thrown.message) });
}

/** Type, message and stack of any thrown value; each read may throw, and is then replaced. */
function describeThrown(error: unknown): { type: string; message: string; stack: string | null } {
  const attempt = <T>(read: () => T, fallback: T): T => {
    try {
      return read();
    } catch {
      return fallback;
    }
  };
  const isError = attempt(() => error instanceof Error, false);
  if (!isError) {
    const type = error === null ? 'null' : typeof error;
    const message = attempt(() => String(error), `[unprintable ${type}]`);
    return { type, message, stack: null };
  }
  const e = error as Error;
  const type = attempt(() => String(e.name), 'Error');
  const message = attempt(() => String(e.message), '[unprintable message]');
  const stack = attempt(() => (typeof e.stack === 'string' ? e.stack : null), null);
  return { type, message, stack };
}
