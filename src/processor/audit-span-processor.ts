import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { AUDIT_ATTRS, GEN_AI_ATTRS } from '../attributes.js';
import { getAuditContext, subjectOf } from '../instrument/audit-context.js';
import type { CaptureContent } from '../instrument/content-capture.js';
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
import { HelperOverlap } from './helper-overlap.js';
import { hasRecognisedEvent, recognisedEventRecords } from './recognisers/gen-ai-events.js';
import {
  BUILT_IN_RECOGNISERS,
  type RecogniserEnvironment,
  RecogniserIndex,
  type SpanRecogniser,
} from './recognisers/index.js';
import { RedactedTextMemo } from './redacted-text-memo.js';
import { hasAuditRecord, spanToRecords } from './span-to-records.js';

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
 * context onto every span; `onEnd` only checks for `audit.action` or a recogniser's one lookup
 * and queues the span; mapping, redaction and writing happen off the caller's path.
 */
export class AuditSpanProcessor implements SpanProcessor {
  readonly writer: AuditWriter;
  private readonly env: RecogniserEnvironment;
  private readonly recognisers: RecogniserIndex;
  /** Null without recognisers: then no third-party span can repeat a helper-made one. */
  private readonly overlap: HelperOverlap | null;
  private readonly logger: AuditLogger;
  private readonly ownsWriter: boolean;
  private readonly policy: PipelinePolicy;
  private pending: ReadableSpan[] = [];
  private drainScheduled = false;
  private mappingFailures = 0;

  constructor(options: AuditSpanProcessorOptions) {
    if (!options || (options.writer === undefined) === (options.store === undefined)) {
      throw new TypeError('AuditSpanProcessor: give exactly one of `writer` or `store`');
    }
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
  }

  onStart(span: Span, parentContext: Context): void {
    try {
      this.overlap?.onStart(span, parentContext);
      // Bridges register their scopes with the active pipeline, as helpers do.
      activePipelinePolicy().toolScopes.note(span);
      const audit = getAuditContext(parentContext);
      if (audit === undefined) return;
      if (span.attributes[AUDIT_ATTRS.ACTOR_ID] === undefined) {
        span.setAttribute(AUDIT_ATTRS.ACTOR_TYPE, audit.actor.type);
        span.setAttribute(AUDIT_ATTRS.ACTOR_ID, audit.actor.id);
        const subject = subjectOf(audit.actor, audit.subject);
        if (subject !== undefined && span.attributes[AUDIT_ATTRS.SUBJECT_ID] === undefined)
          span.setAttribute(AUDIT_ATTRS.SUBJECT_ID, subject);
      }
      if (
        audit.conversationId !== undefined &&
        span.attributes[GEN_AI_ATTRS.CONVERSATION_ID] === undefined
      ) {
        span.setAttribute(GEN_AI_ATTRS.CONVERSATION_ID, audit.conversationId);
      }
      if (audit.tenantId !== undefined && span.attributes[AUDIT_ATTRS.TENANT_ID] === undefined) {
        span.setAttribute(AUDIT_ATTRS.TENANT_ID, audit.tenantId);
      }
    } catch {
      // Never throw into the SDK.
    }
  }

  onEnd(span: ReadableSpan): void {
    try {
      if (
        !hasAuditRecord(span) &&
        this.recognisers.find(span) === undefined &&
        (this.recognisers.isEmpty || !hasRecognisedEvent(span))
      )
        return;
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
        records = spanToRecords(span, this.env);
        const recognised = this.recognisedRecord(span);
        if (recognised !== null) records.push(recognised);
        if (!this.recognisers.isEmpty) records.push(...recognisedEventRecords(span, this.env));
      } catch (error) {
        this.mappingFailures += 1;
        this.logger.error(
          `could not build the audit record of span "${span.name}" (${span.spanContext().spanId}): ${String(error)}`,
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
