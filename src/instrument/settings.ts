// Not the sanitize barrel: it also holds the span exporter, which the helpers never need.
import { PERSONAL_DATA_DETECTORS } from '../sanitize/detectors.js';
import { createRedactor, getDefaultRedactor } from '../sanitize/redactor.js';
import type { Redactor } from '../sanitize/types.js';
import { type CaptureContent, resolveCaptureContent } from './content-capture.js';

/** Process-wide helper settings, set by `initAuditTelemetry` (defaults work without it). */
export interface InstrumentSettings {
  captureContent: CaptureContent;
  /** Redacts secrets and personal data: tool params, reasons, error messages, content. */
  redactor: Redactor;
  /** Masks secrets only: content under `captureContent: 'full'`. */
  secretsOnlyRedactor: Redactor;
}

let current: InstrumentSettings | undefined;

export function instrumentSettings(): InstrumentSettings {
  current ??= {
    captureContent: resolveCaptureContent(),
    redactor: getDefaultRedactor(),
    secretsOnlyRedactor: createRedactor({ disable: [...PERSONAL_DATA_DETECTORS] }),
  };
  return current;
}

export function configureInstrumentation(settings: Partial<InstrumentSettings>): void {
  current = { ...instrumentSettings(), ...settings };
}

/** Back to defaults (used at shutdown, so a later init starts clean). */
export function resetInstrumentation(): void {
  current = undefined;
}
