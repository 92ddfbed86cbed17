import type { Span } from '@opentelemetry/sdk-trace';
import { AI_AUDIT_ACTIONS } from '../actions.js';
import { AUDIT_ATTRS, GEN_AI_ATTRS } from '../attributes.js';

/** A tool call made with `traceToolCall`, as seen from a third-party span around it. */
export interface HelperToolCall {
  toolName: string | undefined;
  toolCallId: string | undefined;
}

/**
 * Resolves "the third-party tool span running right now" for bridges that emit their records
 * outside the OTel context (the OpenAI Agents SDK keeps its own current span).
 */
export type ExternalToolScope = () => object | undefined;

export function helperToolCallOf(attributes: Span['attributes']): HelperToolCall {
  const toolName = attributes[GEN_AI_ATTRS.TOOL_NAME];
  const toolCallId = attributes[GEN_AI_ATTRS.TOOL_CALL_ID];
  return {
    toolName: typeof toolName === 'string' ? toolName : undefined,
    toolCallId: typeof toolCallId === 'string' ? toolCallId : undefined,
  };
}

/**
 * Bridges register a resolver; helper-made tool calls started inside a resolved scope are noted
 * against it, for the bridge to check at its end. One per pipeline.
 */
export class ExternalToolScopes {
  private readonly scopes = new Set<ExternalToolScope>();
  private readonly callsByScope = new WeakMap<object, HelperToolCall[]>();

  register(resolve: ExternalToolScope): () => void {
    this.scopes.add(resolve);
    return () => this.scopes.delete(resolve);
  }

  /** Called for every starting span; does work only for a helper-made tool call. */
  note(span: Span): void {
    if (this.scopes.size === 0) return;
    if (span.attributes[AUDIT_ATTRS.ACTION] !== AI_AUDIT_ACTIONS.TOOL_CALL) return;
    for (const resolve of this.scopes) {
      let scope: object | undefined;
      try {
        scope = resolve();
      } catch {
        continue;
      }
      if (scope === undefined) continue;
      const calls = this.callsByScope.get(scope) ?? [];
      calls.push(helperToolCallOf(span.attributes));
      this.callsByScope.set(scope, calls);
    }
  }

  within(scope: object): readonly HelperToolCall[] {
    return this.callsByScope.get(scope) ?? [];
  }
}
