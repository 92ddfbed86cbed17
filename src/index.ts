// The root entry: what an app needs to record its AI actions. Building blocks live in subpaths
// named for what they hold: `aitrail/sdk`, `aitrail/store`, `aitrail/schema`, `aitrail/openai-agents`.
export {
  ACTOR_TYPES,
  type ActorType,
  AI_AUDIT_ACTIONS,
  type AiAuditAction,
  AUDIT_OUTCOMES,
  type AuditActor,
  type AuditOutcome,
} from './actions.js';
export { AUDIT_ATTRS, GEN_AI_ATTRS, GEN_AI_OPERATIONS } from './attributes.js';
export { AitrailError, type AitrailErrorCode } from './errors.js';
export {
  type ApprovalStatus,
  type RecordApprovalOptions,
  recordApproval,
} from './instrument/approval.js';
export {
  type AuditContext,
  getAuditContext,
  withAuditContext,
} from './instrument/audit-context.js';
export { type RecordAuditEventOptions, recordAuditEvent } from './instrument/audit-event.js';
export {
  type ChatMessage,
  type ChatSpan,
  type TraceChatOptions,
  traceChat,
} from './instrument/chat.js';
export type { CommonOptions } from './instrument/common-options.js';
export type { CaptureContent } from './instrument/content-capture.js';
export type { AuditEventRef } from './instrument/emit.js';
export { type RecordEvaluationOptions, recordEvaluation } from './instrument/evaluation.js';
export { type RecordGuardrailOptions, recordGuardrail } from './instrument/guardrail.js';
export { type RecordHandoffOptions, recordHandoff } from './instrument/handoff.js';
export {
  type RecordBudgetExceededOptions,
  type RecordRateLimitedOptions,
  recordBudgetExceeded,
  recordRateLimited,
} from './instrument/limits.js';
export { recordTaskQueued, type TaskOptions, traceTask } from './instrument/task.js';
export { type TraceToolCallOptions, traceToolCall } from './instrument/tool-call.js';
export {
  type AuditTelemetry,
  type InitAuditTelemetryOptions,
  initAuditTelemetry,
} from './telemetry/init.js';
