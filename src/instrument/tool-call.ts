import { type Span, SpanKind } from '@opentelemetry/api';
import { AI_AUDIT_ACTIONS } from '../actions.js';
import { AUDIT_ATTRS, GEN_AI_ATTRS, GEN_AI_OPERATIONS } from '../attributes.js';
import { activePipelinePolicy } from '../pipeline/pipeline-policy.js';
import type { JsonValue } from '../sanitize/types.js';
import { type CommonOptions, checkHelperOptions } from './common-options.js';
import { type HeldAttribute, identityAttributes, traceInSpan } from './emit.js';
import { checkOptionalString, checkString } from './options.js';
import { HeldValue } from './sanitized-values.js';

export interface TraceToolCallOptions extends CommonOptions {
  toolName: string;
  /** The tool's arguments; recorded redacted and size-limited. */
  params?: unknown;
  toolCallId?: string;
  /** The approval that gated this call (`recordApproval({ approvalId })`): links decision and call. */
  approvalId?: string;
  /** Record what the tool returned, redacted like the params. Default true. */
  recordResult?: boolean;
}

const OWN_KEYS = ['toolName', 'params', 'toolCallId', 'approvalId', 'recordResult'] as const;

/** `audit.metadata` of a tool call: its result, as the row keeps it. */
function asToolResultMetadata(toolResult: JsonValue): JsonValue {
  return { toolResult };
}

/** Traces a tool execution as `execute_tool {tool}`, audited as `ai.tool_call`. */
export function traceToolCall<T>(
  options: TraceToolCallOptions,
  fn: (span: Span) => T | Promise<T>,
): Promise<Awaited<T>> {
  checkHelperOptions('traceToolCall', options, OWN_KEYS);
  checkString('traceToolCall', 'toolName', options.toolName);
  checkOptionalString('traceToolCall', 'toolCallId', options.toolCallId);
  checkOptionalString('traceToolCall', 'approvalId', options.approvalId);
  if (options.recordResult !== undefined && typeof options.recordResult !== 'boolean')
    throw new TypeError('traceToolCall: recordResult must be a boolean');
  if (typeof fn !== 'function') throw new TypeError('traceToolCall: fn must be a function');
  const attributes = identityAttributes(options);
  attributes[AUDIT_ATTRS.ACTION] = AI_AUDIT_ACTIONS.TOOL_CALL;
  attributes[GEN_AI_ATTRS.OPERATION_NAME] = GEN_AI_OPERATIONS.EXECUTE_TOOL;
  attributes[GEN_AI_ATTRS.TOOL_NAME] = options.toolName;
  if (options.toolCallId !== undefined) attributes[GEN_AI_ATTRS.TOOL_CALL_ID] = options.toolCallId;
  if (options.approvalId !== undefined) attributes[AUDIT_ATTRS.APPROVAL_ID] = options.approvalId;
  const policy = activePipelinePolicy();
  const { redactor } = policy;
  // Redacted off the caller's turn, for the row and the pipeline's exporter: never on the span.
  const held: HeldAttribute[] = [];
  if (options.params !== undefined) {
    held.push([GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS, HeldValue.capture(redactor, options.params)]);
  }
  return traceInSpan(`execute_tool ${options.toolName}`, SpanKind.INTERNAL, attributes, fn, {
    held,
    onResult:
      options.recordResult === false
        ? undefined
        : (span, result) => {
            if (result === undefined) return;
            // The named attribute is for exporters; the row reads it from audit.metadata.
            const toolResult = HeldValue.capture(redactor, result);
            policy.sanitized.hold(span, GEN_AI_ATTRS.TOOL_CALL_RESULT, toolResult);
            policy.sanitized.hold(span, AUDIT_ATTRS.METADATA, toolResult, asToolResultMetadata);
          },
  });
}
