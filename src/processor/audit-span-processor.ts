import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AUDIT_ATTRS } from '../attributes.js';
import { getAuditContext } from '../instrument/audit-context.js';
import { getDefaultRedactor } from '../sanitize/index.js';
import type { Redactor } from '../sanitize/types.js';
import type { AuditRecord } from '../store/audit-record.js';
import type { AuditStore } from '../store/audit-store.js';
import {
  AuditWriter,
  type AuditWriterOptions,
  type WriterStats,
} from '../store/writer/audit-writer.js';
import { type AuditLogger, consoleLogger } from '../store/writer/logger.js';
import { hasAuditRecord, type MappingEnvironment, spanToRecords } from './span-to-records.js';

export interface AuditSpanProcessorOptions {
  /** Where records go. Give a writer, or a store and (optionally) writer options. */
  writer?: AuditWriter;
  store?: AuditStore;
  writerOptions?: Omit<AuditWriterOptions, 'store'>;
  /** Fallback when a span's resource has no `service.name`. */
  serviceName?: string;
  redactor?: Redactor;
  logger?: AuditLogger;
  /** Shut the writer down with the processor (default true). */
  ownsWriter?: boolean;
}

export interface AuditProcessorStats extends WriterStats {
  /** Spans whose records could not be built; each was logged. */
  mappingFailures: number;
}

/** Spans held between `onEnd` and the next turn of the event loop, before mapping runs inline. */
const MAX_PENDING_SPANS = 512;

/**
 * Mirrors audit spans into the audit store. `onStart` stamps the acting identity from the
 * audit context onto every span; `onEnd` only checks for `audit.action` and queues the span;
 * mapping, redaction and writing happen off the caller's path.
 */
export class AuditSpanProcessor implements SpanProcessor {
  readonly writer: AuditWriter;
  private readonly env: MappingEnvironment;
  private readonly logger: AuditLogger;
  private readonly ownsWriter: boolean;
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
    this.env = {
      serviceName: options.serviceName ?? null,
      redactor: options.redactor ?? getDefaultRedactor(),
    };
  }

  onStart(span: Span, parentContext: Context): void {
    const audit = getAuditContext(parentContext);
    if (audit === undefined) return;
    try {
      if (span.attributes[AUDIT_ATTRS.ACTOR_ID] === undefined) {
        span.setAttribute(AUDIT_ATTRS.ACTOR_TYPE, audit.actor.type);
        span.setAttribute(AUDIT_ATTRS.ACTOR_ID, audit.actor.id);
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
      if (!hasAuditRecord(span)) return;
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
    return { ...this.writer.stats(), mappingFailures: this.mappingFailures };
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
}
