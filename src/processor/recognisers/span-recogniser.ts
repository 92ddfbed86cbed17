import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { CaptureContent } from '../../instrument/content-capture.js';
import type { Redactor } from '../../sanitize/types.js';
import type { MappingEnvironment } from '../span-to-records.js';
import type { SpanMapping } from './span-mapping.js';

/** What a recognised record needs: the mapping environment plus the capture policy. */
export interface RecogniserEnvironment extends MappingEnvironment {
  /** Prompt and completion capture, as for `traceChat`. */
  captureContent: CaptureContent;
  /** Masks secrets only: content under `captureContent: 'full'`. */
  secretsOnlyRedactor: Redactor;
}

/**
 * Turns one family of third-party spans (an AI SDK's own telemetry) into audit records. It is a
 * table, not code, so that telling spans apart stays one lookup on every span's hot path: a
 * source's spans are known by their name or by the value of one attribute. Spans that carry
 * `audit.action` are never offered to a recogniser: aitrail's own mapping wins.
 */
export interface SpanRecogniser {
  /** `metadata.source` of the records it makes: `vercel-ai`, `gen-ai`, `openinference`. */
  readonly source: string;
  /** What tells this source's spans apart: the span name, or the value of one attribute. */
  readonly matchOn: 'spanName' | { readonly attribute: string };
  /** Match value → how such a span is recorded. */
  readonly mappings: Readonly<Record<string, SpanMapping>>;
  /**
   * The match value is there when the span starts (in its name or start attributes), so the
   * sampler can keep the span. False for sources that set their attributes later.
   */
  readonly visibleAtStart: boolean;
  /** Another mapping for some of the matched spans, or null for "not a record". Runs off the hot path. */
  refine?(span: ReadableSpan, mapping: SpanMapping): SpanMapping | null;
}
