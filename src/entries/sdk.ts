// `aitrail/sdk`: the building blocks for apps that bring their own OpenTelemetry set-up.
export {
  type AuditPipeline,
  type AuditPipelineOptions,
  createAuditPipeline,
  type PipelineSpanProcessorOptions,
} from '../pipeline/audit-pipeline.js';
export type { PipelinePolicy } from '../pipeline/pipeline-policy.js';
export {
  AuditSampler,
  type AuditSamplerOptions,
  type StartRecogniser,
} from '../processor/audit-sampler.js';
export {
  type AuditProcessorStats,
  AuditSpanProcessor,
  type AuditSpanProcessorOptions,
} from '../processor/audit-span-processor.js';
export {
  BUILT_IN_RECOGNISERS,
  type FieldSource,
  GEN_AI_OPERATIONS_AUDITED,
  genAiSemconvRecogniser,
  MCP_METHODS_AUDITED,
  mcpRecogniser,
  OPENINFERENCE_KINDS_AUDITED,
  openInferenceRecogniser,
  type RecogniserEnvironment,
  type SpanMapping,
  type SpanRecogniser,
  startRecogniser,
  VERCEL_AI_SPANS,
  vercelAiRecogniser,
} from '../processor/recognisers/index.js';
export {
  BUILT_IN_DETECTORS,
  createRedactor,
  DEFAULT_LIMITS,
  PERSONAL_DATA_DETECTORS,
  REDACTION_FAILED,
  RedactingSpanExporter,
  type RedactingSpanExporterOptions,
} from '../sanitize/index.js';
export type {
  JsonValue,
  RedactionLimits,
  RedactionPolicy,
  RedactionStats,
  Redactor,
  ReplacementMode,
  ValueDetector,
} from '../sanitize/types.js';
