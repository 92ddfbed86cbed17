import { type Context, trace } from '@opentelemetry/api';
import type { ReadableSpan, Span } from '@opentelemetry/sdk-trace';
import { AI_AUDIT_ACTIONS } from '../actions.js';
import { SpanSlot } from '../instrument/span-slot.js';
import { activePipelinePolicy } from '../pipeline/pipeline-policy.js';
import type { AuditRecord } from '../store/audit-record.js';
import {
  type ExternalToolScope,
  type HelperToolCall,
  helperToolCallOf,
} from './external-tool-scopes.js';
import type { RecogniserIndex } from './recognisers/index.js';

export type { HelperToolCall } from './external-tool-scopes.js';

/** The nearest audit-relevant span at or above a span: helper-made, or recognised at start. */
interface AuditNode {
  readonly span: object;
  readonly action: string;
  /** Carries `audit.action` (made by aitrail's helpers) rather than being recognised. */
  readonly own: boolean;
  /** A recognised span directly inside a helper-made span of the same action. */
  insideHelper?: boolean;
  /** Helper-made spans of the same action directly inside this recognised span. */
  helperCalls?: HelperToolCall[];
  /** An envelope (agent invocation): spans inside it are compared with `outer`, around it. */
  envelope?: boolean;
  outer?: AuditNode;
}

/**
 * Keeps a third-party span and a helper-made span that describe the same call from both
 * becoming rows: the helper-made record is canonical. Two spans are the same call when one is
 * the nearest audit-relevant span around the other and both have the same action; a helper
 * tool call inside a third-party one must also have the same call id (or, when either lacks
 * one, the same tool name), since a tool may call other tools. So `traceChat` around an
 * instrumented OpenAI call is one row, and so is `traceToolCall` inside the AI SDK's `execute`;
 * a chat made inside a tool stays a row of its own.
 *
 * Nesting is learnt in `onStart` (a slot on each span naming its nearest audit-relevant ancestor),
 * so only sources recognisable at start take part on the outer side; a span dropped by the
 * sampler between the two breaks the chain.
 */
export class HelperOverlap {
  /**
   * Set on audit-relevant spans and on the spans under one; the others, most of an app's spans,
   * are spared the store (a missing slot reads as empty).
   */
  private readonly nearest = new SpanSlot<AuditNode>('aitrail.nearest_audit_span');

  constructor(private readonly recognisers: RecogniserIndex) {}

  /**
   * Notes where `span` sits; true when it is audit-relevant itself (helper-made or recognised).
   * `ownAction`: the span's `audit.action` at start, read by the caller.
   */
  onStart(span: Span, parentContext: Context, ownAction: unknown): boolean {
    const parent = trace.getSpan(parentContext);
    const nearest = parent === undefined ? undefined : this.nearest.get(parent);
    const own = typeof ownAction === 'string';
    const mapping = own
      ? undefined
      : this.recognisers.findAtStart(span.name, span.attributes)?.mapping;
    const action = own ? (ownAction as string) : mapping?.action;
    if (action === undefined) {
      if (nearest !== undefined) this.nearest.set(span, nearest);
      return false;
    }
    const enclosing = nearest?.envelope ? nearest.outer : nearest;
    const node: AuditNode = { span, action, own };
    if (mapping?.envelope) {
      node.envelope = true;
      node.outer = enclosing;
    }
    if (enclosing !== undefined && enclosing.action === action && enclosing.own !== own) {
      if (own) {
        enclosing.helperCalls ??= [];
        enclosing.helperCalls.push(helperToolCallOf(span.attributes));
      } else {
        node.insideHelper = true;
      }
    }
    this.nearest.set(span, node);
    return true;
  }

  /** True when `record`, which a recogniser made from `span`, repeats a helper-made record. */
  duplicatesHelper(span: ReadableSpan, record: AuditRecord): boolean {
    const node = this.nearest.get(span);
    if (node === undefined) return false;
    // Not relevant at start (recognised only now): the node is its nearest ancestor's.
    if (node.span !== span) return node.own && node.action === record.action;
    if (node.insideHelper) return true;
    return node.helperCalls?.some((call) => sameCallAsRecord(call, record)) ?? false;
  }
}

/** Same model call: always (one per nesting). Same tool call: same id, else same tool name. */
export function sameCall(
  call: HelperToolCall,
  other: { action: string; toolName: string | null; toolCallId: string | undefined },
): boolean {
  if (other.action !== AI_AUDIT_ACTIONS.TOOL_CALL) return true;
  if (call.toolCallId !== undefined && other.toolCallId !== undefined) {
    return call.toolCallId === other.toolCallId;
  }
  return call.toolName !== undefined && call.toolName === other.toolName;
}

function sameCallAsRecord(call: HelperToolCall, record: AuditRecord): boolean {
  const toolCallId = record.metadata.toolCallId;
  return sameCall(call, {
    action: record.action,
    toolName: record.toolName,
    toolCallId: typeof toolCallId === 'string' ? toolCallId : undefined,
  });
}

/**
 * Bridges that emit their records outside the OTel context (the OpenAI Agents SDK keeps its own
 * current span) register a resolver for "the third-party tool span running right now" with the
 * active pipeline; helper-made tool calls started inside it are noted against it by that
 * pipeline's processor, for the bridge to check at its end.
 */
export function registerExternalToolScope(resolve: ExternalToolScope): () => void {
  return activePipelinePolicy().toolScopes.register(resolve);
}

export function helperToolCallsWithin(scope: object): readonly HelperToolCall[] {
  return activePipelinePolicy().toolScopes.within(scope);
}
