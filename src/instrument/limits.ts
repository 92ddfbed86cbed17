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
}

export interface RecordBudgetExceededOptions extends CommonOptions {
  budgetUsed: number;
  budgetLimit: number;
  /** `usd`, `tokens`, … */
  unit?: string;
}

/** Records a request refused by a rate limit (`ai.rate_limited`, outcome `denied`). */
export function recordRateLimited(options: RecordRateLimitedOptions): AuditEventRef {
  const fn = 'recordRateLimited';
  checkHelperOptions(fn, options, ['limitKey', 'limit', 'windowMs', 'retryAfterMs']);
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
  return emitAuditSpan(AI_AUDIT_ACTIONS.RATE_LIMITED, attributes);
}

/** Records work refused because a spending budget ran out (`ai.budget_exceeded`, outcome `denied`). */
export function recordBudgetExceeded(options: RecordBudgetExceededOptions): AuditEventRef {
  const fn = 'recordBudgetExceeded';
  checkHelperOptions(fn, options, ['budgetUsed', 'budgetLimit', 'unit']);
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
  return emitAuditSpan(AI_AUDIT_ACTIONS.BUDGET_EXCEEDED, attributes);
}
