// `aitrail/sdk`: the building blocks for apps that bring their own OpenTelemetry set-up.
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
  OPENINFERENCE_KINDS_AUDITED,
  openInferenceRecogniser,
  type SpanMapping,
  type SpanRecogniser,
  startRecogniser,
  VERCEL_AI_SPANS,
  vercelAiRecogniser,
} from '../processor/recognisers/index.js';
export {
  createRedactor,
  RedactingSpanExporter,
  type RedactingSpanExporterOptions,
} from '../sanitize/index.js';
export type {
  JsonValue,
  RedactionPolicy,
  Redactor,
  ReplacementMode,
  ValueDetector,
} from '../sanitize/types.js';
