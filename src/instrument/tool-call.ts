import { type Span, SpanKind } from '@opentelemetry/api';
import { AI_AUDIT_ACTIONS } from '../actions.js';
import { AUDIT_ATTRS, GEN_AI_ATTRS, GEN_AI_OPERATIONS } from '../attributes.js';
import { activePipelinePolicy } from '../pipeline/pipeline-policy.js';
import { type CommonOptions, checkHelperOptions } from './common-options.js';
import { identityAttributes, type SanitizedAttribute, traceInSpan } from './emit.js';
import { checkOptionalString, checkString } from './options.js';

export interface TraceToolCallOptions extends CommonOptions {
  toolName: string;
  /** The tool's arguments; recorded redacted and size-limited. */
  params?: unknown;
  toolCallId?: string;
}

const OWN_KEYS = ['toolName', 'params', 'toolCallId'] as const;

/** Traces a tool execution as `execute_tool {tool}`, audited as `ai.tool_call`. */
export function traceToolCall<T>(
  options: TraceToolCallOptions,
  fn: (span: Span) => T | Promise<T>,
): Promise<Awaited<T>> {
  checkHelperOptions('traceToolCall', options, OWN_KEYS);
  checkString('traceToolCall', 'toolName', options.toolName);
  checkOptionalString('traceToolCall', 'toolCallId', options.toolCallId);
  if (typeof fn !== 'function') throw new TypeError('traceToolCall: fn must be a function');
  const attributes: Record<string, string> = {
    ...(identityAttributes(options) as Record<string, string>),
    [AUDIT_ATTRS.ACTION]: AI_AUDIT_ACTIONS.TOOL_CALL,
    [GEN_AI_ATTRS.OPERATION_NAME]: GEN_AI_OPERATIONS.EXECUTE_TOOL,
    [GEN_AI_ATTRS.TOOL_NAME]: options.toolName,
  };
  if (options.toolCallId !== undefined) attributes[GEN_AI_ATTRS.TOOL_CALL_ID] = options.toolCallId;
  const sanitized: SanitizedAttribute[] = [];
  if (options.params !== undefined) {
    const { redactor } = activePipelinePolicy();
    const params = redactor.redactValue(options.params);
    attributes[GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS] = JSON.stringify(params);
    sanitized.push([GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS, redactor, params]);
  }
  return traceInSpan(
    `execute_tool ${options.toolName}`,
    SpanKind.INTERNAL,
    attributes,
    fn,
    undefined,
    sanitized,
  );
}
