import { type Span, SpanKind } from '@opentelemetry/api';
import { AI_AUDIT_ACTIONS } from '../actions.js';
import { AUDIT_ATTRS, GEN_AI_ATTRS, GEN_AI_OPERATIONS } from '../attributes.js';
import { activePipelinePolicy } from '../pipeline/pipeline-policy.js';
import { type CommonOptions, checkHelperOptions } from './common-options.js';
import { captureContent } from './content-capture.js';
import { type HeldAttribute, identityAttributes, traceInSpan } from './emit.js';
import { checkOptionalNumber, checkOptionalString, checkString } from './options.js';

export interface ChatMessage {
  role: string;
  content: unknown;
}

export interface TraceChatOptions extends CommonOptions {
  model: string;
  provider?: string;
  /** Role of `content` when it is a plain string. Default `user`. */
  role?: string;
  /** The prompt: a string or messages. Recorded per the capture policy. */
  content?: string | ChatMessage[];
}

/** Handed to the function `traceChat` runs, to record what the model answered. */
export interface ChatSpan {
  readonly span: Span;
  setUsage(usage: { inputTokens?: number; outputTokens?: number }): void;
  setResponseModel(model: string): void;
  /** The completion, recorded per the capture policy. */
  setCompletion(content: string | ChatMessage[]): void;
}

const OWN_KEYS = ['model', 'provider', 'role', 'content'] as const;

function toMessages(content: string | ChatMessage[], role: string): ChatMessage[] {
  return typeof content === 'string' ? [{ role, content }] : content;
}

/** Traces one model call as `chat {model}`, audited as `ai.chat_message`. */
export function traceChat<T>(
  options: TraceChatOptions,
  fn: (chat: ChatSpan) => T | Promise<T>,
): Promise<Awaited<T>> {
  checkHelperOptions('traceChat', options, OWN_KEYS);
  checkString('traceChat', 'model', options.model);
  checkOptionalString('traceChat', 'provider', options.provider);
  checkOptionalString('traceChat', 'role', options.role);
  if (
    options.content !== undefined &&
    typeof options.content !== 'string' &&
    !Array.isArray(options.content)
  ) {
    throw new TypeError('traceChat: content must be a string or an array of messages');
  }
  if (typeof fn !== 'function') throw new TypeError('traceChat: fn must be a function');
  const settings = activePipelinePolicy();
  const redactors = { redacted: settings.redactor, secretsOnly: settings.secretsOnlyRedactor };
  const attributes = {
    ...identityAttributes(options),
    [AUDIT_ATTRS.ACTION]: AI_AUDIT_ACTIONS.CHAT_MESSAGE,
    [GEN_AI_ATTRS.OPERATION_NAME]: GEN_AI_OPERATIONS.CHAT,
    [GEN_AI_ATTRS.REQUEST_MODEL]: options.model,
  } as Record<string, string | number>;
  if (options.provider !== undefined) attributes[GEN_AI_ATTRS.PROVIDER_NAME] = options.provider;
  // Redacted off the caller's turn, for the row and the pipeline's exporter: never on the span.
  const held: HeldAttribute[] = [];
  if (options.content !== undefined) {
    const captured = captureContent(
      settings.captureContent,
      toMessages(options.content, options.role ?? 'user'),
      redactors,
    );
    if (captured !== undefined) held.push([GEN_AI_ATTRS.INPUT_MESSAGES, captured]);
  }
  const run = (span: Span) =>
    fn({
      span,
      setUsage(usage) {
        if (usage === null || typeof usage !== 'object') {
          throw new TypeError('setUsage: expected { inputTokens?, outputTokens? }');
        }
        checkOptionalNumber('setUsage', 'inputTokens', usage.inputTokens);
        checkOptionalNumber('setUsage', 'outputTokens', usage.outputTokens);
        if (usage.inputTokens !== undefined)
          span.setAttribute(GEN_AI_ATTRS.USAGE_INPUT_TOKENS, usage.inputTokens);
        if (usage.outputTokens !== undefined)
          span.setAttribute(GEN_AI_ATTRS.USAGE_OUTPUT_TOKENS, usage.outputTokens);
      },
      setResponseModel(model) {
        checkString('setResponseModel', 'model', model);
        span.setAttribute(GEN_AI_ATTRS.RESPONSE_MODEL, model);
      },
      setCompletion(content) {
        const captured = captureContent(
          settings.captureContent,
          toMessages(content, 'assistant'),
          redactors,
        );
        if (captured === undefined || !span.isRecording()) return;
        settings.sanitized.hold(span, GEN_AI_ATTRS.OUTPUT_MESSAGES, captured);
      },
    });
  return traceInSpan(`chat ${options.model}`, SpanKind.CLIENT, attributes, run, { held });
}
