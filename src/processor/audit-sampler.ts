import {
  type Attributes,
  type Context,
  isSpanContextValid,
  type Link,
  type SpanKind,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import {
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';
import { AUDIT_ATTRS, CHECKPOINT_ATTRS } from '../attributes.js';
import { BUILT_IN_RECOGNISERS, startRecogniser } from './recognisers/index.js';

export type StartRecogniser = (spanName: string, attributes: Attributes) => boolean;

/** The built-in recognisers that can tell at span start (Vercel AI SDK, GenAI conventions). */
const BUILT_IN_START_RECOGNISERS: readonly StartRecogniser[] = [
  startRecogniser(BUILT_IN_RECOGNISERS),
];

export interface AuditSamplerOptions {
  /** The sampler that decides what is exported. Default parent-based always-on. */
  root?: Sampler;
  /**
   * Tell at span start which third-party spans will become audit records. Default the built-in
   * recognisers (Vercel AI SDK, GenAI conventions); `[]` keeps only spans with `audit.action`.
   */
  recognisers?: readonly StartRecogniser[];
  /**
   * Record (without exporting) the spans the wrapped sampler drops, so `audit.action` set after
   * a span started, or on a span event, is still audited. Costs a span object per dropped span.
   */
  recordUnsampledSpans?: boolean;
}

/**
 * Wraps the sampler that decides what is exported, so it never decides what is audited:
 * spans that start with `audit.action` (or that a recogniser says will become audit records)
 * and checkpoint spans are always recorded and sampled; everything else is the delegate's call. Default
 * recognisers: the built-in ones; `[]` keeps only spans with `audit.action`.
 */
export class AuditSampler implements Sampler {
  private readonly delegate: Sampler;
  /** The delegate is our own parent-based always-on sampler: its decision can be read first. */
  private readonly defaultDelegate: boolean;
  private readonly recognisers: readonly StartRecogniser[];
  private readonly recordUnsampled: boolean;

  constructor(options: AuditSamplerOptions = {}) {
    if (options === null || typeof options !== 'object' || 'shouldSample' in options) {
      throw new TypeError(
        'AuditSampler: expected an options object, e.g. new AuditSampler({ root: yourSampler })',
      );
    }
    const { root, recognisers = BUILT_IN_START_RECOGNISERS } = options;
    if (root !== undefined && typeof root?.shouldSample !== 'function') {
      throw new TypeError('AuditSampler: root must be a Sampler (an object with shouldSample())');
    }
    if (!Array.isArray(recognisers)) {
      throw new TypeError('AuditSampler: recognisers must be an array of functions');
    }
    this.delegate = root ?? new ParentBasedSampler({ root: new AlwaysOnSampler() });
    this.defaultDelegate = root === undefined;
    this.recognisers = recognisers;
    this.recordUnsampled = options.recordUnsampledSpans === true;
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    // The default delegate samples every root span and every child of a sampled parent, with
    // nothing else in its answer: the audit checks below could only say the same. Its decision
    // is read here, not asked for: this runs for every span the app starts.
    let delegated: SamplingResult | undefined;
    if (this.defaultDelegate) {
      const parent = trace.getSpanContext(context);
      if (
        parent === undefined ||
        (parent.traceFlags & TraceFlags.SAMPLED) !== 0 ||
        !isSpanContextValid(parent)
      ) {
        return { decision: SamplingDecision.RECORD_AND_SAMPLED };
      }
      delegated = { decision: SamplingDecision.NOT_RECORD };
    }
    if (
      attributes?.[AUDIT_ATTRS.ACTION] !== undefined ||
      attributes?.[CHECKPOINT_ATTRS.CHAIN_ID] !== undefined ||
      this.recognises(spanName, attributes ?? {})
    ) {
      return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    }
    const result =
      delegated ??
      this.delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
    // Recorded but not exported: a span event or an attribute added later can still be audited.
    if (this.recordUnsampled && result.decision === SamplingDecision.NOT_RECORD) {
      return { ...result, decision: SamplingDecision.RECORD };
    }
    return result;
  }

  private recognises(spanName: string, attributes: Attributes): boolean {
    for (const recognise of this.recognisers) {
      if (recognise(spanName, attributes)) return true;
    }
    return false;
  }

  toString(): string {
    return `AuditSampler{${this.delegate.toString()}}`;
  }
}
