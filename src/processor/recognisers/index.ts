import type { Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { AuditRecord } from '../../store/audit-record.js';
import type { StartRecogniser } from '../audit-sampler.js';
import { genAiSemconvRecogniser } from './gen-ai-semconv.js';
import { mcpRecogniser } from './mcp.js';
import { openInferenceRecogniser } from './openinference.js';
import { recordFromMapping, type SpanMapping } from './span-mapping.js';
import type { RecogniserEnvironment, SpanRecogniser } from './span-recogniser.js';
import { vercelAiRecogniser } from './vercel-ai.js';

export { GEN_AI_OPERATIONS_AUDITED, genAiSemconvRecogniser } from './gen-ai-semconv.js';
export { MCP_METHODS_AUDITED, mcpRecogniser } from './mcp.js';
export { OPENINFERENCE_KINDS_AUDITED, openInferenceRecogniser } from './openinference.js';
export type { FieldSource, SpanMapping } from './span-mapping.js';
export type { RecogniserEnvironment, SpanRecogniser } from './span-recogniser.js';
export { VERCEL_AI_SPANS, vercelAiRecogniser } from './vercel-ai.js';

/**
 * The AI SDK telemetry aitrail audits out of the box. MCP comes before the GenAI conventions:
 * an MCP tool call also carries `gen_ai.operation.name: execute_tool`, and its MCP row says more.
 */
export const BUILT_IN_RECOGNISERS: readonly SpanRecogniser[] = Object.freeze([
  vercelAiRecogniser,
  mcpRecogniser,
  genAiSemconvRecogniser,
  openInferenceRecogniser,
]);

/** A span a recogniser claimed, and the row of its table that applies. */
export interface RecognisedSpan {
  readonly recogniser: SpanRecogniser;
  readonly mapping: SpanMapping;
}

type Lookup = Map<string, RecognisedSpan>;

/**
 * The recognisers' tables compiled into lookups, once: telling whether a span is recognised
 * costs one Map lookup on its name and one attribute read per distinct match attribute. The
 * first recogniser listed wins when two claim the same span.
 */
export class RecogniserIndex {
  private readonly all: CompiledLookups;
  private readonly atStart: CompiledLookups;
  readonly isEmpty: boolean;

  constructor(recognisers: readonly SpanRecogniser[]) {
    this.all = compile(recognisers);
    this.atStart = compile(recognisers.filter((r) => r.visibleAtStart));
    this.isEmpty = recognisers.length === 0;
  }

  /** The recogniser claiming a finished span, if any. */
  find(span: ReadableSpan): RecognisedSpan | undefined {
    return lookup(this.all, span.name, span.attributes);
  }

  /** The recogniser that will claim a span starting with this name and these attributes. */
  findAtStart(spanName: string, attributes: Attributes): RecognisedSpan | undefined {
    return lookup(this.atStart, spanName, attributes);
  }

  /** The span's record; null when the span turns out not to be one. Off the hot path. */
  toRecord(
    span: ReadableSpan,
    recognised: RecognisedSpan,
    env: RecogniserEnvironment,
  ): AuditRecord | null {
    const { recogniser } = recognised;
    const mapping = recogniser.refine
      ? recogniser.refine(span, recognised.mapping)
      : recognised.mapping;
    return mapping === null ? null : recordFromMapping(span, mapping, env, recogniser.source);
  }
}

interface CompiledLookups {
  byName: Lookup;
  byAttribute: Array<{ attribute: string; values: Lookup }>;
}

function compile(recognisers: readonly SpanRecogniser[]): CompiledLookups {
  const byName: Lookup = new Map();
  const byAttribute: CompiledLookups['byAttribute'] = [];
  for (const recogniser of recognisers) {
    let target = byName;
    if (recogniser.matchOn !== 'spanName') {
      const { attribute } = recogniser.matchOn;
      let entry = byAttribute.find((e) => e.attribute === attribute);
      if (entry === undefined) {
        entry = { attribute, values: new Map() };
        byAttribute.push(entry);
      }
      target = entry.values;
    }
    // A Map, not the table object: a span named `constructor` must not find Object.prototype's.
    for (const [value, mapping] of Object.entries(recogniser.mappings)) {
      if (!target.has(value)) target.set(value, { recogniser, mapping });
    }
  }
  return { byName, byAttribute };
}

function lookup(
  compiled: CompiledLookups,
  spanName: string,
  attributes: Attributes,
): RecognisedSpan | undefined {
  const named = compiled.byName.get(spanName);
  if (named !== undefined) return named;
  for (const { attribute, values } of compiled.byAttribute) {
    const value = attributes[attribute];
    if (typeof value === 'string') {
      const found = values.get(value);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The sampler's view of the recognisers: those whose spans can be told apart at start. */
export function startRecogniser(recognisers: readonly SpanRecogniser[]): StartRecogniser {
  const index = new RecogniserIndex(recognisers);
  return (spanName, attributes) => index.findAtStart(spanName, attributes) !== undefined;
}
