import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import {
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
} from '@opentelemetry/sdk-trace-base';
import { AUDIT_ATTRS } from '../attributes.js';

export type StartRecogniser = (spanName: string, attributes: Attributes) => boolean;

/**
 * Wraps the sampler that decides what is exported, so it never decides what is audited:
 * spans that start with `audit.action` (or that a recogniser says will become audit records)
 * are always recorded and sampled; everything else is the delegate's call.
 */
export class AuditSampler implements Sampler {
  private readonly delegate: Sampler;
  private readonly recognisers: readonly StartRecogniser[];

  constructor(delegate?: Sampler, recognisers: readonly StartRecogniser[] = []) {
    this.delegate = delegate ?? new ParentBasedSampler({ root: new AlwaysOnSampler() });
    this.recognisers = recognisers;
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    if (
      attributes?.[AUDIT_ATTRS.ACTION] !== undefined ||
      this.recognises(spanName, attributes ?? {})
    ) {
      return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    }
    return this.delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
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
