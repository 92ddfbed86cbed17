import { AI_AUDIT_ACTIONS } from '../actions.js';
import { AUDIT_ATTRS, GEN_AI_ATTRS, GEN_AI_GUARDRAIL_ATTRS } from '../attributes.js';
import { type CommonOptions, checkHelperOptions } from './common-options.js';
import { type AuditEventRef, emitAuditSpan, identityAttributes } from './emit.js';
import { checkOptionalString, checkString } from './options.js';
import { instrumentSettings } from './settings.js';

export interface RecordGuardrailOptions extends CommonOptions {
  /** The guardrail's name: `resource_id` of the row. */
  name: string;
  /** The verdict exactly as the guardrail gave it (`allow`, `deny`, `warn`, `modify`, `blocked`, …). */
  decision: string;
  /** What it checked: `llm_input`, `llm_output`, `tool_call`, … */
  targetType?: string;
  /** Which one, when there is an id (a tool call id, a message index). */
  targetId?: string;
  policyId?: string;
  /** Why, recorded redacted. */
  reason?: string;
}

const OWN_KEYS = ['name', 'decision', 'targetType', 'targetId', 'policyId', 'reason'] as const;

/**
 * Records that a guardrail ran, with its verdict as given (`ai.guardrail_triggered`): aitrail does
 * not turn a provider's verdict into allow/deny. The row's outcome says whether recording
 * succeeded, not what the guardrail decided; that is `metadata.guardrailDecision`.
 */
export function recordGuardrail(options: RecordGuardrailOptions): AuditEventRef {
  const fn = 'recordGuardrail';
  checkHelperOptions(fn, options, OWN_KEYS);
  checkString(fn, 'name', options.name);
  checkString(fn, 'decision', options.decision);
  for (const key of ['targetType', 'targetId', 'policyId', 'reason'] as const)
    checkOptionalString(fn, key, options[key]);
  const { redactor } = instrumentSettings();
  const attributes: Record<string, string> = {
    ...(identityAttributes(options) as Record<string, string>),
    [AUDIT_ATTRS.ACTION]: AI_AUDIT_ACTIONS.GUARDRAIL_TRIGGERED,
    [AUDIT_ATTRS.OUTCOME]: 'success',
    [AUDIT_ATTRS.RESOURCE_TYPE]: 'guardrail',
    [AUDIT_ATTRS.RESOURCE_ID]: options.name,
    [GEN_AI_ATTRS.OPERATION_NAME]: 'apply_guardrail',
    [GEN_AI_GUARDRAIL_ATTRS.NAME]: options.name,
    [GEN_AI_GUARDRAIL_ATTRS.DECISION]: options.decision,
  };
  const metadata: Record<string, string> = {
    guardrailName: options.name,
    guardrailDecision: options.decision,
  };
  if (options.targetType !== undefined) {
    attributes[GEN_AI_GUARDRAIL_ATTRS.TARGET_TYPE] = options.targetType;
    metadata.guardrailTargetType = options.targetType;
  }
  if (options.targetId !== undefined) {
    attributes[GEN_AI_GUARDRAIL_ATTRS.TARGET_ID] = options.targetId;
    metadata.guardrailTargetId = options.targetId;
  }
  if (options.policyId !== undefined) {
    attributes[GEN_AI_GUARDRAIL_ATTRS.POLICY_ID] = options.policyId;
    metadata.guardrailPolicyId = options.policyId;
  }
  if (options.reason !== undefined)
    attributes[AUDIT_ATTRS.REASON] = redactor.redactText(options.reason);
  attributes[AUDIT_ATTRS.METADATA] = JSON.stringify(metadata);
  return emitAuditSpan(`apply_guardrail ${options.name}`, attributes);
}
