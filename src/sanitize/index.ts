export { getDefaultRedactor } from '../pipeline/default-redactor.js';
export { BUILT_IN_DETECTORS, PERSONAL_DATA_DETECTORS } from './detectors.js';
export { DEFAULT_LIMITS } from './policy.js';
export {
  RedactingSpanExporter,
  type RedactingSpanExporterOptions,
} from './redacting-span-exporter.js';
export { createRedactor } from './redactor.js';
export { REDACTION_FAILED } from './replacement.js';
export type {
  JsonValue,
  RedactionLimits,
  RedactionPolicy,
  RedactionStats,
  Redactor,
  ReplacementMode,
  ValueDetector,
} from './types.js';
