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
    // Both lookups read the match attributes in the same order, so each read site sees one key.
    const attributes = matchAttributes(recognisers);
    this.all = compile(recognisers, attributes);
    this.atStart = compile(
      recognisers.filter((r) => r.visibleAtStart),
      attributes,
    );
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

/** One match attribute and its values; `values` is null when no recogniser here reads it. */
interface AttributeLookup {
  readonly attribute: string;
  readonly values: Lookup | null;
}

/**
 * The first match attributes get read sites of their own in `lookup`: a site that always reads
 * the same key is one cached property load, while one site reading several keys (a loop) falls
 * back to a generic lookup costing about ten times as much, on every span.
 */
const UNROLLED = 4;

interface CompiledLookups {
  readonly byName: Lookup;
  readonly a0: AttributeLookup | null;
  readonly a1: AttributeLookup | null;
  readonly a2: AttributeLookup | null;
  readonly a3: AttributeLookup | null;
  /** Match attributes beyond the unrolled ones. */
  readonly more: readonly AttributeLookup[];
}

function matchAttributes(recognisers: readonly SpanRecogniser[]): string[] {
  const attributes: string[] = [];
  for (const { matchOn } of recognisers) {
    if (matchOn !== 'spanName' && !attributes.includes(matchOn.attribute))
      attributes.push(matchOn.attribute);
  }
  return attributes;
}

function compile(
  recognisers: readonly SpanRecogniser[],
  attributes: readonly string[],
): CompiledLookups {
  const byName: Lookup = new Map();
  const byAttribute = new Map<string, Lookup>();
  for (const recogniser of recognisers) {
    let target = byName;
    if (recogniser.matchOn !== 'spanName') {
      const { attribute } = recogniser.matchOn;
      target = byAttribute.get(attribute) ?? new Map();
      byAttribute.set(attribute, target);
    }
    // A Map, not the table object: a span named `constructor` must not find Object.prototype's.
    for (const [value, mapping] of Object.entries(recogniser.mappings)) {
      if (!target.has(value)) target.set(value, { recogniser, mapping });
    }
  }
  const lookups = attributes.map((attribute) => ({
    attribute,
    values: byAttribute.get(attribute) ?? null,
  }));
  return {
    byName,
    a0: lookups[0] ?? null,
    a1: lookups[1] ?? null,
    a2: lookups[2] ?? null,
    a3: lookups[3] ?? null,
    more: lookups.slice(UNROLLED),
  };
}

function lookup(
  compiled: CompiledLookups,
  spanName: string,
  attributes: Attributes,
): RecognisedSpan | undefined {
  const named = compiled.byName.get(spanName);
  if (named !== undefined) return named;
  const { a0, a1, a2, a3 } = compiled;
  if (a0 === null) return undefined;
  let found = a0.values === null ? undefined : matchValue(a0.values, attributes[a0.attribute]);
  if (found !== undefined || a1 === null) return found;
  found = a1.values === null ? undefined : matchValue(a1.values, attributes[a1.attribute]);
  if (found !== undefined || a2 === null) return found;
  found = a2.values === null ? undefined : matchValue(a2.values, attributes[a2.attribute]);
  if (found !== undefined || a3 === null) return found;
  found = a3.values === null ? undefined : matchValue(a3.values, attributes[a3.attribute]);
  if (found !== undefined) return found;
  for (const { attribute, values } of compiled.more) {
    found = values === null ? undefined : matchValue(values, attributes[attribute]);
    if (found !== undefined) return found;
  }
  return undefined;
}

function matchValue(values: Lookup, value: unknown): RecognisedSpan | undefined {
  return typeof value === 'string' ? values.get(value) : undefined;
}

/** The sampler's view of the recognisers: those whose spans can be told apart at start. */
export function startRecogniser(recognisers: readonly SpanRecogniser[]): StartRecogniser {
  const index = new RecogniserIndex(recognisers);
  return (spanName, attributes) => index.findAtStart(spanName, attributes) !== undefined;
}
