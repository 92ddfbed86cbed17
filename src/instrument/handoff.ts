import { AI_AUDIT_ACTIONS } from '../actions.js';
import { AUDIT_ATTRS, GEN_AI_ATTRS, GEN_AI_OPERATIONS } from '../attributes.js';
import { activePipelinePolicy } from '../pipeline/pipeline-policy.js';
import { type CommonOptions, checkHelperOptions } from './common-options.js';
import { type AuditEventRef, emitAuditSpan, identityAttributes } from './emit.js';
import { checkOptionalString, checkString } from './options.js';

export interface RecordHandoffOptions extends CommonOptions {
  fromAgent: string;
  toAgent: string;
  reason?: string;
}

/** Records that one agent handed the conversation to another (`ai.agent_handoff`). */
export function recordHandoff(options: RecordHandoffOptions): AuditEventRef {
  checkHelperOptions('recordHandoff', options, ['fromAgent', 'toAgent', 'reason']);
  checkString('recordHandoff', 'fromAgent', options.fromAgent);
  checkString('recordHandoff', 'toAgent', options.toAgent);
  checkOptionalString('recordHandoff', 'reason', options.reason);
  const attributes: Record<string, string> = {
    ...(identityAttributes({
      ...options,
      agentName: options.agentName ?? options.fromAgent,
    }) as Record<string, string>),
    [AUDIT_ATTRS.ACTION]: AI_AUDIT_ACTIONS.AGENT_HANDOFF,
    [AUDIT_ATTRS.OUTCOME]: 'success',
    [GEN_AI_ATTRS.OPERATION_NAME]: GEN_AI_OPERATIONS.INVOKE_AGENT,
    [AUDIT_ATTRS.HANDOFF_FROM]: options.fromAgent,
    [AUDIT_ATTRS.HANDOFF_TO]: options.toAgent,
  };
  if (options.reason !== undefined)
    attributes[AUDIT_ATTRS.REASON] = activePipelinePolicy().redactor.redactText(options.reason);
  return emitAuditSpan(`invoke_agent ${options.toAgent}`, attributes);
}
