import type { Redactor } from '../sanitize/types.js';
import { HeldValue } from './sanitized-values.js';

/** What happens to prompts and completions: dropped, redacted, or kept with only secrets masked. */
export type CaptureContent = 'none' | 'redacted' | 'full';

export const CAPTURE_CONTENT_MODES: readonly CaptureContent[] = ['none', 'redacted', 'full'];

/**
 * `captureContent` option, else `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`
 * (`false` ⇒ none, `true` ⇒ redacted, or a mode name), else `redacted`.
 */
export function resolveCaptureContent(option?: CaptureContent): CaptureContent {
  if (option !== undefined) {
    if (!CAPTURE_CONTENT_MODES.includes(option)) {
      throw new TypeError(
        `captureContent must be one of ${CAPTURE_CONTENT_MODES.join(', ')}, got ${JSON.stringify(option)}`,
      );
    }
    return option;
  }
  const env = process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase();
  if (env === 'false' || env === '0' || env === 'none') return 'none';
  if (env === 'full') return 'full';
  return 'redacted';
}

/**
 * Prompt or completion content under the capture policy, held for the row and the pipeline's
 * exporter (redacted when first needed); `undefined` means "do not record".
 */
export function captureContent(
  mode: CaptureContent,
  content: unknown,
  redactors: { redacted: Redactor; secretsOnly: Redactor },
): HeldValue | undefined {
  if (mode === 'none' || content === undefined) return undefined;
  return HeldValue.capture(mode === 'full' ? redactors.secretsOnly : redactors.redacted, content);
}
