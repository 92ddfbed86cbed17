import { AUDIT_OUTCOMES, type AuditOutcome } from '../actions.js';
import { AUDIT_ATTRS } from '../attributes.js';
import { activePipelinePolicy } from '../pipeline/pipeline-policy.js';
import { type CommonOptions, checkHelperOptions } from './common-options.js';
import {
  type AuditEventRef,
  emitAuditSpan,
  identityAttributes,
  type SanitizedAttribute,
} from './emit.js';
import { checkOneOf, checkOptionalString } from './options.js';

export interface RecordAuditEventOptions extends CommonOptions {
  /** Namespaced, lowercase: `billing.refund_issued`, `user.role_changed`. */
  action: string;
  outcome?: AuditOutcome;
  resourceType?: string;
  resourceId?: string;
  reason?: string;
  /** Anything else worth keeping; stored redacted and size-limited. */
  metadata?: Record<string, unknown>;
}

const ACTION_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** Records one of the app's own (non-AI) actions in the same trail. */
export function recordAuditEvent(options: RecordAuditEventOptions): AuditEventRef {
  const fn = 'recordAuditEvent';
  checkHelperOptions(fn, options, [
    'action',
    'outcome',
    'resourceType',
    'resourceId',
    'reason',
    'metadata',
  ]);
  if (
    typeof options.action !== 'string' ||
    options.action.length > 128 ||
    !ACTION_PATTERN.test(options.action)
  ) {
    throw new TypeError(
      `${fn}: action must be a namespaced lowercase name such as "billing.refund_issued", got ${JSON.stringify(options.action)}`,
    );
  }
  if (options.outcome !== undefined) checkOneOf(fn, 'outcome', options.outcome, AUDIT_OUTCOMES);
  checkOptionalString(fn, 'resourceType', options.resourceType);
  checkOptionalString(fn, 'resourceId', options.resourceId);
  checkOptionalString(fn, 'reason', options.reason);
  if (
    options.metadata !== undefined &&
    (options.metadata === null ||
      typeof options.metadata !== 'object' ||
      Array.isArray(options.metadata))
  ) {
    throw new TypeError(`${fn}: metadata must be a plain object`);
  }
  const { redactor } = activePipelinePolicy();
  // An action is a name that queries group by: one holding a secret is refused, not rewritten.
  if (redactor.redactText(options.action) !== options.action) {
    throw new TypeError(
      `${fn}: action must be a name, not data; it holds what looks like a secret or personal data`,
    );
  }
  const attributes: Record<string, string> = {
    ...(identityAttributes(options) as Record<string, string>),
    [AUDIT_ATTRS.ACTION]: options.action,
    [AUDIT_ATTRS.OUTCOME]: options.outcome ?? 'success',
  };
  if (options.resourceType !== undefined)
    attributes[AUDIT_ATTRS.RESOURCE_TYPE] = options.resourceType;
  if (options.resourceId !== undefined)
    attributes[AUDIT_ATTRS.RESOURCE_ID] = redactor.redactText(options.resourceId);
  if (options.reason !== undefined)
    attributes[AUDIT_ATTRS.REASON] = redactor.redactText(options.reason);
  const sanitized: SanitizedAttribute[] = [];
  if (options.metadata !== undefined) {
    const metadata = redactor.redactValue(options.metadata);
    attributes[AUDIT_ATTRS.METADATA] = JSON.stringify(metadata);
    sanitized.push([AUDIT_ATTRS.METADATA, redactor, metadata]);
  }
  return emitAuditSpan(options.action, attributes, sanitized);
}
