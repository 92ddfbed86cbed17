import { createTraceState, type SpanContext, type TraceState } from '@opentelemetry/api';

/**
 * `tracestate` is set by whoever called the app (any vendor's `key=value` entries), and the OTLP
 * exporter ships it with every span and link. An entry the redactor would change is dropped rather
 * than rewritten: a rewritten value could break the header's grammar, and the entry only matters
 * to the vendor that put it there.
 */
export function redactTraceState(
  state: TraceState | undefined,
  redactText: (text: string) => string,
): TraceState | undefined {
  if (state === undefined) return undefined;
  const serialized = state.serialize();
  if (serialized === '') return state;
  const entries = serialized.split(',');
  const kept = entries.filter((entry) => redactText(entry) === entry);
  return kept.length === entries.length ? state : createTraceState(kept.join(','));
}

/** `spanContext` with its trace state through `redactTraceState`; the same object if unchanged. */
export function redactSpanContextState(
  spanContext: SpanContext,
  redactText: (text: string) => string,
): SpanContext {
  const state = spanContext.traceState;
  if (state === undefined) return spanContext;
  const redacted = redactTraceState(state, redactText);
  return redacted === state ? spanContext : { ...spanContext, traceState: redacted };
}
