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
export {
  type AgentsApprovalDecisionOptions,
  type AgentsApprovalItem,
  type AgentsRunResult,
  type AgentsRunState,
  type ApproveAgentsToolCallOptions,
  GUARDRAIL_TRIGGERED,
  type InstrumentOpenAIAgentsOptions,
  instrumentOpenAIAgents,
  type OpenAIAgentsInstrumentation,
  type RejectAgentsToolCallOptions,
} from './instrument/openai-agents.js';
export { recordTaskQueued, type TaskOptions, traceTask } from './instrument/task.js';
export { type TraceToolCallOptions, traceToolCall } from './instrument/tool-call.js';
export { AuditSampler, type StartRecogniser } from './processor/audit-sampler.js';
export {
  type AuditProcessorStats,
  AuditSpanProcessor,
  type AuditSpanProcessorOptions,
} from './processor/audit-span-processor.js';
export {
  BUILT_IN_RECOGNISERS,
  type FieldSource,
  GEN_AI_OPERATIONS_AUDITED,
  genAiSemconvRecogniser,
  OPENINFERENCE_KINDS_AUDITED,
  openInferenceRecogniser,
  type SpanMapping,
  type SpanRecogniser,
  startRecogniser,
  VERCEL_AI_SPANS,
  vercelAiRecogniser,
} from './processor/recognisers/index.js';
export { createRedactor, RedactingSpanExporter } from './sanitize/index.js';
export type {
  JsonValue,
  RedactionPolicy,
  Redactor,
  ReplacementMode,
  ValueDetector,
} from './sanitize/types.js';
export type { AuditRecord } from './store/audit-record.js';
export type { AuditStore } from './store/audit-store.js';
export type { AiAuditMetadata } from './store/metadata.js';
export { type OpenAuditStoreOptions, openAuditStore } from './store/open-store.js';
export { type AuditLogEntry, type AuditLogFilter, queryAuditLogs } from './store/queries.js';
export { auditCheckpoints, auditLogs } from './store/schema.js';
export {
  type ChainFailure,
  type ChainReport,
  type TamperKind,
  type VerifyOptions,
  type VerifyReport,
  VerifyScopeError,
  verifyAuditChains,
} from './store/verify/index.js';
export {
  AuditWriter,
  type AuditWriterOptions,
  type WriterStats,
} from './store/writer/audit-writer.js';
export { type CheckpointSigner, createCheckpointSigner } from './store/writer/checkpoint-signer.js';
export {
  type AuditTelemetry,
  type InitAuditTelemetryOptions,
  initAuditTelemetry,
} from './telemetry/init.js';
