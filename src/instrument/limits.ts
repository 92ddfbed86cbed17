import { AI_AUDIT_ACTIONS } from '../actions.js';
import { AUDIT_ATTRS } from '../attributes.js';
import { type CommonOptions, checkHelperOptions } from './common-options.js';
import { type AuditEventRef, emitAuditSpan, identityAttributes } from './emit.js';
import { checkNumber, checkOptionalNumber, checkOptionalString, checkString } from './options.js';

export interface RecordRateLimitedOptions extends CommonOptions {
  limitKey: string;
  limit: number;
  windowMs: number;
  retryAfterMs?: number;
  /** The action the limit stopped (e.g. `ai.chat_message`). */
  stoppedAction?: string;
  /** The tool whose call the limit stopped. */
  stoppedTool?: string;
}

export interface RecordBudgetExceededOptions extends CommonOptions {
  budgetUsed: number;
  budgetLimit: number;
  /** `usd`, `tokens`, … */
  unit?: string;
  /** Which budget ran out (e.g. `tenant:acme:monthly`). */
  budgetKey?: string;
  stoppedAction?: string;
  stoppedTool?: string;
}

const STOPPED_KEYS = ['stoppedAction', 'stoppedTool'] as const;

/** What a limit stopped, as attributes and as the row's metadata (read from audit.metadata). */
function stoppedAttributes(
  fn: string,
  options: { stoppedAction?: string; stoppedTool?: string; budgetKey?: string },
  attributes: Record<string, string | number>,
): void {
  checkOptionalString(fn, 'stoppedAction', options.stoppedAction);
  checkOptionalString(fn, 'stoppedTool', options.stoppedTool);
  checkOptionalString(fn, 'budgetKey', options.budgetKey);
  const metadata: Record<string, string> = {};
  if (options.stoppedAction !== undefined) {
    attributes[AUDIT_ATTRS.STOPPED_ACTION] = options.stoppedAction;
    metadata.stoppedAction = options.stoppedAction;
  }
  if (options.stoppedTool !== undefined) {
    attributes[AUDIT_ATTRS.STOPPED_TOOL] = options.stoppedTool;
    metadata.stoppedTool = options.stoppedTool;
  }
  if (options.budgetKey !== undefined) {
    attributes[AUDIT_ATTRS.BUDGET_KEY] = options.budgetKey;
    metadata.budgetKey = options.budgetKey;
  }
  if (Object.keys(metadata).length > 0) attributes[AUDIT_ATTRS.METADATA] = JSON.stringify(metadata);
}

/** Records a request refused by a rate limit (`ai.rate_limited`, outcome `denied`). */
export function recordRateLimited(options: RecordRateLimitedOptions): AuditEventRef {
  const fn = 'recordRateLimited';
  checkHelperOptions(fn, options, [
    'limitKey',
    'limit',
    'windowMs',
    'retryAfterMs',
    ...STOPPED_KEYS,
  ]);
  checkString(fn, 'limitKey', options.limitKey);
  checkNumber(fn, 'limit', options.limit);
  checkNumber(fn, 'windowMs', options.windowMs);
  checkOptionalNumber(fn, 'retryAfterMs', options.retryAfterMs);
  const attributes: Record<string, string | number> = {
    ...(identityAttributes(options) as Record<string, string>),
    [AUDIT_ATTRS.ACTION]: AI_AUDIT_ACTIONS.RATE_LIMITED,
    [AUDIT_ATTRS.OUTCOME]: 'denied',
    [AUDIT_ATTRS.RATE_LIMIT_KEY]: options.limitKey,
    [AUDIT_ATTRS.RATE_LIMIT_LIMIT]: options.limit,
    [AUDIT_ATTRS.RATE_LIMIT_WINDOW_MS]: options.windowMs,
  };
  if (options.retryAfterMs !== undefined)
    attributes[AUDIT_ATTRS.RATE_LIMIT_RETRY_AFTER_MS] = options.retryAfterMs;
  stoppedAttributes(fn, options, attributes);
  return emitAuditSpan(AI_AUDIT_ACTIONS.RATE_LIMITED, attributes);
}

/** Records work refused because a spending budget ran out (`ai.budget_exceeded`, outcome `denied`). */
export function recordBudgetExceeded(options: RecordBudgetExceededOptions): AuditEventRef {
  const fn = 'recordBudgetExceeded';
  checkHelperOptions(fn, options, [
    'budgetUsed',
    'budgetLimit',
    'unit',
    'budgetKey',
    ...STOPPED_KEYS,
  ]);
  checkNumber(fn, 'budgetUsed', options.budgetUsed);
  checkNumber(fn, 'budgetLimit', options.budgetLimit);
  checkOptionalString(fn, 'unit', options.unit);
  const attributes: Record<string, string | number> = {
    ...(identityAttributes(options) as Record<string, string>),
    [AUDIT_ATTRS.ACTION]: AI_AUDIT_ACTIONS.BUDGET_EXCEEDED,
    [AUDIT_ATTRS.OUTCOME]: 'denied',
    [AUDIT_ATTRS.BUDGET_USED]: options.budgetUsed,
    [AUDIT_ATTRS.BUDGET_LIMIT]: options.budgetLimit,
  };
  if (options.unit !== undefined) attributes[AUDIT_ATTRS.BUDGET_UNIT] = options.unit;
  stoppedAttributes(fn, options, attributes);
  return emitAuditSpan(AI_AUDIT_ACTIONS.BUDGET_EXCEEDED, attributes);
}
