import type { Redactor } from '../sanitize/types.js';
import { activePipelinePolicy } from './pipeline-policy.js';

/** The active pipeline's redactor: the default policy when no pipeline is registered. */
export function getDefaultRedactor(): Redactor {
  return activePipelinePolicy().redactor;
}
