// `aitrail/ai-sdk`: audit Vercel AI SDK (`ai` 6 and 7) calls: telemetry identity and tool approvals.
export {
  type AuditTelemetryOptions,
  auditApprovedTools,
  auditTelemetry,
  type IdentifyFromRuntimeContext,
  identityFromRuntimeContext,
  type RecordToolApprovalsOptions,
  recordToolApprovals,
  UNATTRIBUTED_APPROVER,
} from '../integrations/ai-sdk.js';
export type {
  ToolApprovalDecision,
  ToolApprovalRequest,
} from '../integrations/ai-sdk-approvals.js';
