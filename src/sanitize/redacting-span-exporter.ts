import { type Attributes, context, type Link, type SpanContext } from '@opentelemetry/api';
import {
  type ExportResult,
  ExportResultCode,
  type InstrumentationScope,
  suppressTracing,
} from '@opentelemetry/core';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter, TimedEvent } from '@opentelemetry/sdk-trace';
import type { CaptureContent } from '../instrument/content-capture.js';
import { deferredIdentity } from '../instrument/deferred-identity.js';
import { activePipelinePolicy, type PipelinePolicy } from '../pipeline/pipeline-policy.js';
import { isContentAttribute } from './content-attributes.js';
import { REDACTION_FAILED } from './replacement.js';
import { redactSpanContextState } from './trace-state.js';
import type { Redactor } from './types.js';

export interface RedactingSpanExporterOptions {
  /**
   * The pipeline whose policy applies (see `createAuditPipeline`): its redactor, its capture mode,
   * and its helpers' held values (tool params and results, chat content), added to exported
   * copies. Default: the policy of the pipeline active when the exporter is made, and the held
   * values of the one active when spans are exported. Not together with `redactor`.
   */
  pipeline?: PipelinePolicy;
  /** A redactor for every span instead of the pipeline's (prompts and completions included). */
  redactor?: Redactor;
}

const OPTIONS = ['pipeline', 'redactor'];

/** Maps one attribute map; `owner` is the attribute map of the span it belongs to. */
type AttributeMapper = (attributes: Attributes, owner: Attributes) => Attributes;

/**
 * A copy of `span` with the (already redacted) span `attributes`, `mapAttributes` applied to
 * event and link attributes, `mapText` to the span name, event names and status message, and the
 * (already redacted) `resource` and `scope`. `mapText` also decides which `tracestate` entries
 * stay. Identity and timing are carried over unchanged; the SDK's span object is never mutated.
 */
function copySpan(
  span: ReadableSpan,
  attributes: Attributes,
  mapAttributes: AttributeMapper,
  mapText: (text: string) => string,
  resource: Resource,
  scope: InstrumentationScope,
): ReadableSpan {
  const owner = span.attributes;
  const spanContext: SpanContext = redactSpanContextState(span.spanContext(), mapText);
  const parentSpanContext =
    span.parentSpanContext === undefined
      ? undefined
      : redactSpanContextState(span.parentSpanContext, mapText);
  const status =
    span.status.message === undefined
      ? { ...span.status }
      : { ...span.status, message: mapText(span.status.message) };
  const events: TimedEvent[] = span.events.map((event) => ({
    ...event,
    name: mapText(event.name),
    attributes: event.attributes === undefined ? undefined : mapAttributes(event.attributes, owner),
  }));
  const links: Link[] = span.links.map((link) => ({
    ...link,
    context: redactSpanContextState(link.context, mapText),
    attributes: link.attributes === undefined ? undefined : mapAttributes(link.attributes, owner),
  }));
  return {
    name: mapText(span.name),
    kind: span.kind,
    spanContext: () => spanContext,
    parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status,
    attributes,
    links,
    events,
    duration: span.duration,
    ended: span.ended,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/** Every string (and string array item) replaced: what is exported when redaction itself threw. */
function failClosedAttributes(attributes: Attributes): Attributes {
  const output: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string') {
      output[key] = REDACTION_FAILED;
    } else if (Array.isArray(value)) {
      output[key] = value.map((item) => (typeof item === 'string' ? REDACTION_FAILED : item)) as
        | string[]
        | number[]
        | boolean[];
    } else {
      output[key] = value;
    }
  }
  return output;
}

/**
 * A `SpanExporter` that hands redacted copies of every span to the exporter it wraps:
 * attributes, event attributes (`exception.message`, `exception.stacktrace`), link attributes,
 * the status message, span and event names, the instrumentation scope and the resource (the
 * process command line included). Prompts and completions follow the pipeline's capture mode
 * on every span, ours and other libraries' (`none`: left out; `full`: only secrets masked). If
 * redacting a span throws, that span is exported with every string attribute replaced by
 * `[REDACTION_FAILED]`, never raw. The wrapped export runs with tracing suppressed, so the
 * exporter's own I/O cannot produce spans that loop back here.
 */
export class RedactingSpanExporter implements SpanExporter {
  private readonly inner: SpanExporter;
  private readonly redactor: Redactor;
  private readonly captureContent: CaptureContent;
  /** Content under `captureContent: 'full'`: secrets masked, personal data kept. */
  private readonly contentRedactor: Redactor;
  /**
   * One redacted copy per resource: resource attributes (command line, OTEL_RESOURCE_ATTRIBUTES)
   * can hold secrets too, and the OTLP encoder groups spans by resource identity, so every span
   * of a resource must share the same copy.
   */
  private readonly resources = new WeakMap<Resource, Resource>();
  /** One redacted copy per scope: a tracer's name is whatever a library passed to getTracer(). */
  private readonly scopes = new WeakMap<InstrumentationScope, InstrumentationScope>();
  /** Where held values are looked up; undefined: the pipeline active at export time. */
  private readonly heldSource: PipelinePolicy | undefined;
  /** Exports waiting for their turn of the event loop. */
  private readonly exporting = new Set<Promise<void>>();

  constructor(inner: SpanExporter, options: RedactingSpanExporterOptions = {}) {
    if (inner === null || typeof inner !== 'object' || typeof inner.export !== 'function') {
      throw new TypeError(
        'RedactingSpanExporter: inner must be a SpanExporter with an export() method',
      );
    }
    for (const key of Object.keys(options)) {
      if (!OPTIONS.includes(key)) {
        throw new TypeError(
          `RedactingSpanExporter: unknown option ${key}; expected one of ${OPTIONS.join(', ')}`,
        );
      }
    }
    if (options.pipeline !== undefined && options.redactor !== undefined) {
      throw new TypeError('RedactingSpanExporter: give either `pipeline` or `redactor`, not both');
    }
    const { pipeline, redactor } = options;
    if (pipeline !== undefined && typeof pipeline?.redactor?.redactAttributes !== 'function') {
      throw new TypeError('RedactingSpanExporter: pipeline must come from createAuditPipeline()');
    }
    if (redactor !== undefined && typeof redactor?.redactAttributes !== 'function') {
      throw new TypeError('RedactingSpanExporter: redactor must come from createRedactor()');
    }
    const policy = options.pipeline ?? activePipelinePolicy();
    this.inner = inner;
    this.redactor = options.redactor ?? policy.redactor;
    this.captureContent = policy.captureContent;
    this.contentRedactor = options.redactor ?? policy.secretsOnlyRedactor;
    this.heldSource = options.pipeline;
  }

  /**
   * Redacts and hands on on a later turn of the event loop: the SDK's batch processor calls
   * `export` from inside `span.end()` when its batch fills, and redacting 512 spans there would
   * bill one unlucky caller milliseconds. `forceFlush` and `shutdown` wait for exports under way.
   */
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const exported = new Promise<void>((resolve) => {
      setImmediate(() => {
        try {
          this.exportNow(spans, resultCallback);
        } finally {
          resolve();
        }
      });
    });
    this.exporting.add(exported);
    void exported.then(() => this.exporting.delete(exported));
  }

  private exportNow(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let copies: ReadableSpan[];
    try {
      copies = spans.map((span) => this.redactSpan(span));
    } catch (error) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: error instanceof Error ? error : new Error(String(error)),
      });
      return;
    }
    context.with(suppressTracing(context.active()), () =>
      this.inner.export(copies, resultCallback),
    );
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.exporting);
    return this.inner.shutdown();
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.exporting);
    return this.inner.forceFlush?.();
  }

  private redactSpan(span: ReadableSpan): ReadableSpan {
    const redactor = this.redactor;
    const resource = this.redactResource(span.resource);
    const scope = this.redactScope(span.instrumentationScope);
    try {
      return copySpan(
        span,
        this.spanAttributes(span),
        (attributes, owner) => this.redactAttributes(attributes, owner),
        (text) => redactor.redactText(text),
        resource,
        scope,
      );
    } catch {
      redactor.stats.failures++;
      // Held values (tool params, chat content) are left out: they are never on the span itself.
      return copySpan(
        span,
        failClosedAttributes(span.attributes),
        failClosedAttributes,
        () => REDACTION_FAILED,
        resource,
        scope,
      );
    }
  }

  /**
   * The span's attributes redacted, with what aitrail keeps beside the span rather than on it:
   * the acting identity of a span started inside `withAuditContext` (when the processor defers
   * it), and the values its helpers held. The span's own attributes win.
   */
  private spanAttributes(span: ReadableSpan): Attributes {
    const own = span.attributes;
    const identity = deferredIdentity(span, own);
    const held = (this.heldSource ?? activePipelinePolicy()).sanitized.heldAttributes(
      span,
      own,
      this.redactor,
    );
    const input =
      identity === undefined && held === undefined
        ? own
        : { ...identity, ...held?.foreign, ...own };
    const redacted = this.redactAttributes(input, own);
    if (held === undefined) return redacted;
    // Held under another capture mode (a pipeline made before this exporter's): none means none.
    for (const key of Object.keys(held.sanitized)) {
      if (this.captureContent !== 'none' || !isContentAttribute(key, own))
        redacted[key] = held.sanitized[key] as Attributes[string];
    }
    return redacted;
  }

  /** Attributes through the redactor; prompts and completions as the capture mode says. */
  private redactAttributes(attributes: Attributes, owner: Attributes): Attributes {
    if (this.captureContent === 'redacted') return this.redactor.redactAttributes(attributes);
    let content: Attributes | undefined;
    let rest: Attributes | undefined;
    for (const key of Object.keys(attributes)) {
      if (!isContentAttribute(key, owner)) continue;
      content ??= {};
      rest ??= { ...attributes };
      content[key] = attributes[key];
      delete rest[key];
    }
    if (content === undefined || rest === undefined) {
      return this.redactor.redactAttributes(attributes);
    }
    const redacted = this.redactor.redactAttributes(rest);
    if (this.captureContent === 'none') return redacted;
    return { ...redacted, ...this.contentRedactor.redactAttributes(content) };
  }

  private redactResource(resource: Resource): Resource {
    let copy = this.resources.get(resource);
    if (copy === undefined) {
      let attributes: Attributes;
      try {
        attributes = this.redactor.redactAttributes(resource.attributes);
      } catch {
        this.redactor.stats.failures++;
        attributes = failClosedAttributes(resource.attributes);
      }
      copy = resourceFromAttributes(attributes, { schemaUrl: resource.schemaUrl });
      this.resources.set(resource, copy);
    }
    return copy;
  }

  private redactScope(scope: InstrumentationScope): InstrumentationScope {
    let copy = this.scopes.get(scope);
    if (copy === undefined) {
      const text = (value: string) => {
        try {
          return this.redactor.redactText(value);
        } catch {
          this.redactor.stats.failures++;
          return REDACTION_FAILED;
        }
      };
      copy = {
        ...scope,
        name: text(scope.name),
        ...(scope.version === undefined ? {} : { version: text(scope.version) }),
      };
      this.scopes.set(scope, copy);
    }
    return copy;
  }
}
