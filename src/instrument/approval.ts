import { AI_AUDIT_ACTIONS, type AuditActor, type AuditOutcome } from '../actions.js';
import { AUDIT_ATTRS, GEN_AI_ATTRS } from '../attributes.js';
import { activePipelinePolicy } from '../pipeline/pipeline-policy.js';
import { type CommonOptions, checkHelperOptions } from './common-options.js';
import {
  type AuditEventRef,
  emitAuditSpan,
  identityAttributes,
  type SanitizedAttribute,
} from './emit.js';
import { checkActor, checkOneOf, checkOptionalString } from './options.js';

export type ApprovalStatus = 'created' | 'approved' | 'rejected' | 'expired';

export interface RecordApprovalOptions extends CommonOptions {
  status: ApprovalStatus;
  approvalId?: string;
  /** Who decided. Required for `approved` and `rejected`. */
  approver?: AuditActor;
  /** The tool awaiting approval, and its arguments (redacted). */
  toolName?: string;
  params?: unknown;
  reason?: string;
  /** The group that may decide (e.g. `finance-approvers`), for routing and coverage reports. */
  approverGroup?: string;
  /** Who the request is assigned to (a user id), before anyone decides. */
  assignee?: string;
}

const STATUSES: readonly ApprovalStatus[] = ['created', 'approved', 'rejected', 'expired'];

const BY_STATUS: Record<ApprovalStatus, { action: string; outcome: AuditOutcome }> = {
  created: { action: AI_AUDIT_ACTIONS.APPROVAL_CREATED, outcome: 'success' },
  approved: { action: AI_AUDIT_ACTIONS.APPROVAL_APPROVED, outcome: 'success' },
  rejected: { action: AI_AUDIT_ACTIONS.APPROVAL_REJECTED, outcome: 'denied' },
  expired: { action: AI_AUDIT_ACTIONS.APPROVAL_EXPIRED, outcome: 'denied' },
};

/**
 * Records a human-in-the-loop approval step. A decision (`approved`/`rejected`) without the
 * approver's identity is a TypeError: an audit trail cannot say "someone approved".
 */
export function recordApproval(options: RecordApprovalOptions): AuditEventRef {
  checkHelperOptions('recordApproval', options, [
    'status',
    'approvalId',
    'approver',
    'toolName',
    'params',
    'reason',
    'approverGroup',
    'assignee',
  ]);
  checkOneOf('recordApproval', 'status', options.status, STATUSES);
  checkActor('recordApproval', 'approver', options.approver, false);
  checkOptionalString('recordApproval', 'approvalId', options.approvalId);
  checkOptionalString('recordApproval', 'toolName', options.toolName);
  checkOptionalString('recordApproval', 'reason', options.reason);
  checkOptionalString('recordApproval', 'approverGroup', options.approverGroup);
  checkOptionalString('recordApproval', 'assignee', options.assignee);
  if (
    (options.status === 'approved' || options.status === 'rejected') &&
    options.approver === undefined
  ) {
    throw new TypeError(
      `recordApproval: status "${options.status}" requires approver { type, id } — who made the decision`,
    );
  }
  const { redactor } = activePipelinePolicy();
  const { action, outcome } = BY_STATUS[options.status];
  const attributes: Record<string, string> = {
    ...(identityAttributes(options) as Record<string, string>),
    [AUDIT_ATTRS.ACTION]: action,
    [AUDIT_ATTRS.OUTCOME]: outcome,
  };
  if (options.approvalId !== undefined) attributes[AUDIT_ATTRS.APPROVAL_ID] = options.approvalId;
  if (options.approver !== undefined) {
    attributes[AUDIT_ATTRS.APPROVER_TYPE] = options.approver.type;
    attributes[AUDIT_ATTRS.APPROVER_ID] = options.approver.id;
  }
  if (options.toolName !== undefined) attributes[GEN_AI_ATTRS.TOOL_NAME] = options.toolName;
  const sanitized: SanitizedAttribute[] = [];
  if (options.params !== undefined) {
    const params = redactor.redactValue(options.params);
    attributes[GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS] = JSON.stringify(params);
    sanitized.push([GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS, redactor, params]);
  }
  if (options.reason !== undefined)
    attributes[AUDIT_ATTRS.REASON] = redactor.redactText(options.reason);
  const routing: Record<string, string> = {};
  if (options.approverGroup !== undefined) {
    attributes[AUDIT_ATTRS.APPROVER_GROUP] = options.approverGroup;
    routing.approverGroup = options.approverGroup;
  }
  if (options.assignee !== undefined) {
    attributes[AUDIT_ATTRS.APPROVAL_ASSIGNEE] = options.assignee;
    routing.assignee = options.assignee;
  }
  // The row reads these from audit.metadata (the named attributes are for exporters).
  if (Object.keys(routing).length > 0) attributes[AUDIT_ATTRS.METADATA] = JSON.stringify(routing);
  return emitAuditSpan(action, attributes, sanitized);
}
