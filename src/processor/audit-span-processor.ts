import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { AI_AUDIT_ACTIONS } from '../actions.js';
import { AUDIT_ATTRS } from '../attributes.js';
import { getAuditContext } from '../instrument/audit-context.js';
import type { CaptureContent } from '../instrument/content-capture.js';
import { heldIdentity, holdIdentity, writeIdentity } from '../instrument/deferred-identity.js';
import {
  activePipelinePolicy,
  createPipelinePolicy,
  type PipelinePolicy,
} from '../pipeline/pipeline-policy.js';
import type { Redactor } from '../sanitize/types.js';
import type { AuditRecord } from '../store/audit-record.js';
import type { AuditStore } from '../store/audit-store.js';
import {
  AuditWriter,
  type AuditWriterOptions,
  type WriterStats,
} from '../store/writer/audit-writer.js';
import { type AuditLogger, consoleLogger } from '../store/writer/logger.js';
import { markSeenByAuditProcessor } from '../telemetry/registration.js';
import { HelperOverlap } from './helper-overlap.js';
import { hasRecognisedEvent, recognisedEventRecords } from './recognisers/gen-ai-events.js';
import {
  BUILT_IN_RECOGNISERS,
  type RecogniserEnvironment,
  RecogniserIndex,
  type SpanRecogniser,
} from './recognisers/index.js';
import { RedactedTextMemo } from './redacted-text-memo.js';
import { hasAuditEvent, spanToRecords } from './span-to-records.js';

export interface AuditSpanProcessorOptions {
  /** Where records go. Give a writer, or a store and (optionally) writer options. */
  writer?: AuditWriter;
  store?: AuditStore;
  writerOptions?: Omit<AuditWriterOptions, 'store'>;
  /** Fallback when a span's resource has no `service.name`. */
  serviceName?: string;
  /**
   * The pipeline whose policy this processor applies (see `createAuditPipeline`): its redactor,
   * capture mode and sanitized-value cache. Without it, `redactor`, `captureContent` and
   * `secretsOnlyRedactor` build a private one; with none of them, the active pipeline's is used.
   */
  pipeline?: PipelinePolicy;
  redactor?: Redactor;
  /**
   * Third-party AI spans to turn into audit records (Vercel AI SDK, GenAI semantic conventions,
   * OpenInference). Default: all built-in recognisers; `[]` records aitrail's own spans only.
   */
  recognisers?: readonly SpanRecogniser[];
  /** Prompt capture for recognised spans. Default `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`, else `redacted`. */
  captureContent?: CaptureContent;
  /** Masks secrets only: recognised content under `captureContent: 'full'`. */
  secretsOnlyRedactor?: Redactor;
  logger?: AuditLogger;
  /** Shut the writer down with the processor (default true). */
  ownsWriter?: boolean;
  /**
   * When spans started inside `withAuditContext` get the acting identity (`audit.actor.*`,
   * `audit.subject.id`, `audit.tenant.id`, `gen_ai.conversation.id`). `'at-start'`: every span,
   * as it starts, so every other processor and exporter sees it.
   * `'deferred'`: the context is kept beside the span and written only where it is read — onto
   * spans that become audit records (as they end) and onto the copies a `RedactingSpanExporter`
   * exports — which spares every other span the work (five attribute writes through the SDK, a
   * tenth of a bare span's cost). Choose it only when every exporter is wrapped by aitrail's
   * exporter and no other processor reads the identity, as in `initAuditTelemetry`. Needs an SDK
   * that calls `onEnding` (sdk-trace 2.1 or later); until it has seen one, the processor stamps at
   * start. Default: `'deferred'` from the moment the processor's `pipeline` has handed out its
   * `exporter()` (until then, and without a `pipeline`, `'at-start'`).
   */
  stampIdentity?: 'at-start' | 'deferred';
}

export interface AuditProcessorStats extends WriterStats {
  /** Spans whose records could not be built; each was logged. */
  mappingFailures: number;
  /** Ended audit spans waiting for the next turn of the event loop to be mapped. */
  pendingSpans: number;
}

/** Spans held between `onEnd` and the next turn of the event loop, before mapping runs inline. */
const MAX_PENDING_SPANS = 512;

/**
 * Mirrors audit spans into the audit store: aitrail's own (those carrying `audit.action`) and
 * the AI SDK spans a recogniser claims. `onStart` stamps the acting identity from the audit
 * context onto every span (or, with `stampIdentity: 'deferred'`, keeps it for the spans and
 * exported copies that need it); `onEnd` only checks for `audit.action` or a recogniser's one
 * lookup and queues the span; mapping, redaction and writing happen off the caller's path.
 */
export class AuditSpanProcessor implements SpanProcessor {
  readonly writer: AuditWriter;
  private readonly env: RecogniserEnvironment;
  /** For aitrail's own spans: held values left for a writer thread to redact, when it can. */
  private readonly ownSpanEnv: RecogniserEnvironment;
  private readonly recognisers: RecogniserIndex;
  /** Null without recognisers: then no third-party span can repeat a helper-made one. */
  private readonly overlap: HelperOverlap | null;
  private readonly logger: AuditLogger;
  private readonly ownsWriter: boolean;
  private readonly policy: PipelinePolicy;
  private pending: ReadableSpan[] = [];
  private drainScheduled = false;
  private mappingFailures = 0;
  /** Deferred identity, fixed by the option or switched on once the pipeline wraps exports. */
  private deferIdentity: boolean;
  /** No option given and a pipeline given: defer once the pipeline's exporter is in use. */
  private readonly followsPipeline: boolean;
  /** Set by the first `onEnding`: the SDK calls it, so deferred identity reaches the records. */
  private sdkCallsOnEnding = false;
  /** The span `onEnding` last judged and its verdict, so `onEnd` does not look again. */
  private endingSpan: object | undefined;
  private endingIsAudit = false;

  constructor(options: AuditSpanProcessorOptions) {
    if (!options || (options.writer === undefined) === (options.store === undefined)) {
      throw new TypeError('AuditSpanProcessor: give exactly one of `writer` or `store`');
    }
    const { stampIdentity } = options;
    if (
      stampIdentity !== undefined &&
      stampIdentity !== 'at-start' &&
      stampIdentity !== 'deferred'
    ) {
      throw new TypeError("AuditSpanProcessor: stampIdentity must be 'at-start' or 'deferred'");
    }
    this.deferIdentity = stampIdentity === 'deferred';
    this.followsPipeline = stampIdentity === undefined && options.pipeline !== undefined;
    this.logger = options.logger ?? consoleLogger;
    this.writer =
      options.writer ??
      new AuditWriter({
        ...options.writerOptions,
        store: options.store as AuditStore,
        serviceName: options.serviceName ?? null,
        logger: this.logger,
      });
    this.ownsWriter = options.ownsWriter ?? true;
    this.recognisers = new RecogniserIndex(options.recognisers ?? BUILT_IN_RECOGNISERS);
    this.overlap = this.recognisers.isEmpty ? null : new HelperOverlap(this.recognisers);
    if (
      options.pipeline !== undefined &&
      (options.redactor !== undefined ||
        options.captureContent !== undefined ||
        options.secretsOnlyRedactor !== undefined)
    ) {
      throw new TypeError(
        'AuditSpanProcessor: give either `pipeline` or `redactor`/`captureContent`/`secretsOnlyRedactor`, not both',
      );
    }
    const custom =
      options.redactor !== undefined ||
      options.captureContent !== undefined ||
      options.secretsOnlyRedactor !== undefined;
    this.policy =
      options.pipeline ??
      (custom
        ? createPipelinePolicy({
            redactor: options.redactor,
            captureContent: options.captureContent,
            secretsOnlyRedactor: options.secretsOnlyRedactor,
          })
        : activePipelinePolicy());
    this.env = {
      serviceName: options.serviceName ?? null,
      redactor: this.policy.redactor,
      captureContent: this.policy.captureContent,
      secretsOnlyRedactor: this.policy.secretsOnlyRedactor,
      sanitized: this.policy.sanitized,
      memo: new RedactedTextMemo(this.policy.redactor),
    };
    // The records of spanToRecords go straight to the writer; a writer on a thread of its own
    // redacts held values there (with the same policy), on the second core.
    this.ownSpanEnv = { ...this.env, leaveHeldUnredacted: this.writer.thread === 'worker' };
  }

  onStart(span: Span, parentContext: Context): void {
    try {
      const action = span.attributes[AUDIT_ATTRS.ACTION];
      if (action !== undefined) {
        // Lets a helper tell a span no processor saw (it would make no row) from one that will.
        markSeenByAuditProcessor(span);
        // Bridges register their scopes with the active pipeline, as helpers do.
        if (action === AI_AUDIT_ACTIONS.TOOL_CALL) activePipelinePolicy().toolScopes.note(span);
      }
      // The one recogniser lookup at start: it also tells whether the span is audit-relevant.
      const auditAtStart =
        this.overlap === null
          ? action !== undefined
          : this.overlap.onStart(span, parentContext, action);
      if (!this.deferIdentity && this.followsPipeline && this.policy.wrapsExports())
        this.deferIdentity = true;
      // Spans known at start to be records are stamped at once, ahead of attributes that could
      // fill the span's attribute limit before it ends. The others keep their start context: the
      // audit context is read from it only for the few that are asked.
      if (
        this.deferIdentity &&
        this.sdkCallsOnEnding &&
        !auditAtStart &&
        holdIdentity(span, parentContext)
      )
        return;
      const audit = getAuditContext(parentContext);
      if (audit !== undefined) writeIdentity(span.attributes, audit, span);
    } catch {
      // Never throw into the SDK.
    }
  }

  /**
   * With deferred identity: tells whether the ending span makes audit records while it can still
   * take attributes, and writes a record's identity onto it, so its rows and every exporter see
   * it. Processors after this one that add `audit.action` in their own `onEnding` are not seen.
   */
  onEnding(span: Span): void {
    if (!this.deferIdentity) return;
    try {
      this.sdkCallsOnEnding = true;
      const isAudit = this.isAuditSpan(span);
      this.endingSpan = span;
      this.endingIsAudit = isAudit;
      if (!isAudit) return;
      const audit = heldIdentity(span);
      if (audit !== undefined) writeIdentity(span.attributes, audit, span);
    } catch {
      // Never throw into the SDK.
    }
  }

  onEnd(span: ReadableSpan): void {
    try {
      // Judged by onEnding, unless another span ended in between or the SDK has no onEnding.
      const isAudit = this.endingSpan === span ? this.endingIsAudit : this.isAuditSpan(span);
      this.endingSpan = undefined;
      if (!isAudit) return;
      this.pending.push(span);
      if (this.pending.length >= MAX_PENDING_SPANS) {
        this.drain();
      } else if (!this.drainScheduled) {
        this.drainScheduled = true;
        setImmediate(() => this.drain());
      }
    } catch (error) {
      this.logger.error(`AuditSpanProcessor.onEnd failed: ${String(error)}`);
    }
  }

  /**
   * Does the span (or an event of it) make an audit record? Asked of every span as it ends, with
   * everything it gained since it started: `audit.action`, a recogniser's name or attribute (set
   * late by some sources), an audit or GenAI evaluation event. Events are read in one pass.
   */
  private isAuditSpan(span: ReadableSpan): boolean {
    if (span.attributes[AUDIT_ATTRS.ACTION] !== undefined) return true;
    if (this.recognisers.find(span) !== undefined) return true;
    const events = span.events;
    if (events.length === 0) return false;
    return hasAuditEvent(events) || (!this.recognisers.isEmpty && hasRecognisedEvent(span));
  }

  async forceFlush(): Promise<void> {
    this.drain();
    await this.writer.flush();
  }

  async shutdown(): Promise<void> {
    this.drain();
    if (this.ownsWriter) await this.writer.shutdown();
    else await this.writer.flush();
  }

  stats(): AuditProcessorStats {
    return {
      ...this.writer.stats(),
      mappingFailures: this.mappingFailures,
      pendingSpans: this.pending.length,
    };
  }

  /** Maps spans queued by `onEnd` now, instead of on the next turn of the event loop. */
  drainPending(): void {
    this.drain();
  }

  private drain(): void {
    this.drainScheduled = false;
    const spans = this.pending;
    this.pending = [];
    for (const span of spans) {
      let records: AuditRecord[];
      try {
        records = spanToRecords(span, this.ownSpanEnv);
        const recognised = this.recognisedRecord(span);
        if (recognised !== null) records.push(recognised);
        if (!this.recognisers.isEmpty) records.push(...recognisedEventRecords(span, this.env));
      } catch (error) {
        this.mappingFailures += 1;
        this.logger.error(
          `could not build the audit record of span "${this.env.redactor.redactText(span.name)}" (${span.spanContext().spanId}): ${String(error)}`,
        );
        continue;
      }
      for (const record of records) this.writer.enqueue(record);
    }
  }

  /** A third-party span's record, unless the span is aitrail's own or repeats a helper-made one. */
  private recognisedRecord(span: ReadableSpan): AuditRecord | null {
    if (span.attributes[AUDIT_ATTRS.ACTION] !== undefined) return null;
    const recognised = this.recognisers.find(span);
    if (recognised === undefined) return null;
    const record = this.recognisers.toRecord(span, recognised, this.env);
    if (record === null || this.overlap?.duplicatesHelper(span, record)) return null;
    return record;
  }
}
