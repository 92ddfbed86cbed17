import { activePipelinePolicy } from '../pipeline/pipeline-policy.js';
import type { Redactor } from '../sanitize/types.js';
import type { CaptureContent } from './content-capture.js';

/** What helpers redact and capture with: the active pipeline's policy. */
export interface InstrumentSettings {
  captureContent: CaptureContent;
  /** Redacts secrets and personal data: tool params, reasons, error messages, content. */
  redactor: Redactor;
  /** Masks secrets only: content under `captureContent: 'full'`. */
  secretsOnlyRedactor: Redactor;
}

/** The active pipeline's policy (see `createAuditPipeline`); state lives there, not here. */
export function instrumentSettings(): InstrumentSettings {
  return activePipelinePolicy();
}
