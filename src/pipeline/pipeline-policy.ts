import { type CaptureContent, resolveCaptureContent } from '../instrument/content-capture.js';
import { HelperTracer } from '../instrument/helper-tracer.js';
import { SanitizedValues } from '../instrument/sanitized-values.js';
import { ExternalToolScopes } from '../processor/external-tool-scopes.js';
import { PERSONAL_DATA_DETECTORS } from '../sanitize/detectors.js';
import { createRedactor } from '../sanitize/redactor.js';
import type { RedactionPolicy, Redactor } from '../sanitize/types.js';
import { auditRegistry } from './global-registry.js';

/**
 * What one pipeline decides and remembers: the redaction policy (compiled), the capture mode,
 * the sanitized-value cache shared by its helpers and its processor, and the integrations'
 * state. Helpers read the active one; the processor, sampler and exporter hold their own.
 */
export interface PipelinePolicy {
  readonly captureContent: CaptureContent;
  /** Redacts secrets and personal data: tool params, reasons, error messages, content. */
  readonly redactor: Redactor;
  /** Masks secrets only: content under `captureContent: 'full'`. */
  readonly secretsOnlyRedactor: Redactor;
  readonly sanitized: SanitizedValues;
  readonly toolScopes: ExternalToolScopes;
  /** The tracer helpers start their spans with. */
  readonly helperTracer: HelperTracer;
  /** True the first time `key` is asked for: one warning per pipeline. */
  firstTime(key: string): boolean;
  /**
   * True once the pipeline has handed out its exporter wrapper, which writes the identity its
   * processor keeps beside a span onto the exported copy: from then on, the pipeline's processor
   * need not stamp every span as it starts.
   */
  wrapsExports(): boolean;
  /** Said by the pipeline's `exporter()` as it hands one out. */
  noteExportWrapper(): void;
}

export interface PipelinePolicyOptions {
  redaction?: RedactionPolicy;
  captureContent?: CaptureContent;
  /** A compiled redactor to use instead of compiling `redaction`. */
  redactor?: Redactor;
  secretsOnlyRedactor?: Redactor;
}

export function createPipelinePolicy(options: PipelinePolicyOptions = {}): PipelinePolicy {
  const redactor = options.redactor ?? createRedactor(options.redaction);
  const secretsOnlyRedactor =
    options.secretsOnlyRedactor ??
    createRedactor({
      ...options.redaction,
      disable: [...(options.redaction?.disable ?? []), ...PERSONAL_DATA_DETECTORS],
    });
  const seen = new Set<string>();
  let exportWrapped = false;
  return {
    captureContent: resolveCaptureContent(options.captureContent),
    redactor,
    secretsOnlyRedactor,
    sanitized: new SanitizedValues(() => activePipelinePolicy().sanitized),
    toolScopes: new ExternalToolScopes(),
    helperTracer: new HelperTracer(),
    firstTime(key) {
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    },
    wrapsExports: () => exportWrapped,
    noteExportWrapper() {
      exportWrapped = true;
    },
  };
}

/**
 * The pipeline helpers use right now: the registered one, else the default (created on first use,
 * with the default policy and the capture mode from the environment).
 */
export function activePipelinePolicy(): PipelinePolicy {
  const registry = auditRegistry();
  if (registry.active !== undefined) return registry.active as PipelinePolicy;
  registry.fallback ??= createPipelinePolicy();
  return registry.fallback as PipelinePolicy;
}

/** Makes `policy` the active one; the returned function restores the previous one. */
export function registerPipelinePolicy(policy: PipelinePolicy): () => void {
  const registry = auditRegistry();
  const previous = registry.active;
  registry.active = policy;
  return () => {
    if (registry.active === policy) registry.active = previous;
  };
}
