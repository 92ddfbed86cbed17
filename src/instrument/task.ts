import { type Span, SpanKind } from '@opentelemetry/api';
import { AI_AUDIT_ACTIONS } from '../actions.js';
import { AUDIT_ATTRS } from '../attributes.js';
import { type CommonOptions, checkHelperOptions } from './common-options.js';
import { type AuditEventRef, emitAuditSpan, identityAttributes, traceInSpan } from './emit.js';
import { checkOptionalString, checkString } from './options.js';

export interface TaskOptions extends CommonOptions {
  taskId: string;
  taskName?: string;
}

const OWN_KEYS = ['taskId', 'taskName'] as const;

function taskAttributes(fn: string, options: TaskOptions, action: string): Record<string, string> {
  checkHelperOptions(fn, options, OWN_KEYS);
  checkString(fn, 'taskId', options.taskId);
  checkOptionalString(fn, 'taskName', options.taskName);
  const attributes: Record<string, string> = {
    ...(identityAttributes(options) as Record<string, string>),
    [AUDIT_ATTRS.ACTION]: action,
    [AUDIT_ATTRS.TASK_ID]: options.taskId,
  };
  if (options.taskName !== undefined) attributes[AUDIT_ATTRS.TASK_NAME] = options.taskName;
  return attributes;
}

/** Records that background work was queued (`ai.task_queued`). */
export function recordTaskQueued(options: TaskOptions): AuditEventRef {
  const attributes = taskAttributes('recordTaskQueued', options, AI_AUDIT_ACTIONS.TASK_QUEUED);
  attributes[AUDIT_ATTRS.OUTCOME] = 'success';
  return emitAuditSpan(`task_queued ${options.taskName ?? options.taskId}`, attributes);
}

/**
 * Runs background work in a span audited as `ai.task_completed`, or `ai.task_failed` when
 * `fn` throws (the error is rethrown unchanged).
 */
export function traceTask<T>(
  options: TaskOptions,
  fn: (span: Span) => T | Promise<T>,
): Promise<Awaited<T>> {
  const attributes = taskAttributes('traceTask', options, AI_AUDIT_ACTIONS.TASK_COMPLETED);
  if (typeof fn !== 'function') throw new TypeError('traceTask: fn must be a function');
  return traceInSpan(
    `task ${options.taskName ?? options.taskId}`,
    SpanKind.INTERNAL,
    attributes,
    fn,
    { onFailure: (span) => span.setAttribute(AUDIT_ATTRS.ACTION, AI_AUDIT_ACTIONS.TASK_FAILED) },
  );
}
