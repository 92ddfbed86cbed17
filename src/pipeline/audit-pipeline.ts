import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace';
import type { CaptureContent } from '../instrument/content-capture.js';
import { AuditSampler, type AuditSamplerOptions } from '../processor/audit-sampler.js';
import {
  AuditSpanProcessor,
  type AuditSpanProcessorOptions,
} from '../processor/audit-span-processor.js';
import { RedactingSpanExporter } from '../sanitize/redacting-span-exporter.js';
import type { RedactionPolicy } from '../sanitize/types.js';
import {
  createPipelinePolicy,
  type PipelinePolicy,
  registerPipelinePolicy,
} from './pipeline-policy.js';

export interface AuditPipelineOptions {
  /** Extra redaction rules (keys, detectors, modes, allow-list); compiled once, here. */
  redaction?: RedactionPolicy;
  /** Prompt and completion capture. Default `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`, else `redacted`. */
  captureContent?: CaptureContent;
}

/** Processor options the pipeline does not decide itself. */
export type PipelineSpanProcessorOptions = Omit<
  AuditSpanProcessorOptions,
  'pipeline' | 'redactor' | 'captureContent' | 'secretsOnlyRedactor'
>;

/**
 * One value owning the audit policy: the redaction policy, the capture mode, the sanitized-value
 * cache its helpers and processor share, and the integrations' state. It hands out the parts an
 * app composing its own OpenTelemetry SDK needs, each applying this one policy:
 * `spanProcessor()` (rows), `sampler()` (audit spans always recorded) and `exporter()`
 * (redacted copies for any exporter). Once `exporter()` has handed one out, the processor keeps
 * the acting identity beside each span and the exporter writes it onto the copy it exports
 * (`stampIdentity: 'deferred'`), unless the processor was asked to stamp at start.
 */
export interface AuditPipeline extends PipelinePolicy {
  spanProcessor(options: PipelineSpanProcessorOptions): AuditSpanProcessor;
  sampler(wrapped?: Sampler, options?: AuditSamplerOptions): AuditSampler;
  exporter(wrapped: SpanExporter): RedactingSpanExporter;
  /**
   * Makes this the active pipeline: helpers (`traceChat`, `traceToolCall`, …) redact and capture
   * with its policy from now on. Returns a function that restores the previous one.
   */
  register(): () => void;
}

const OPTIONS = ['redaction', 'captureContent'];

/**
 * Builds a pipeline. The policy is validated and compiled now: a mistake is a `TypeError` naming
 * the option.
 *
 * ```text
 * const pipeline = createAuditPipeline({ redaction: { disable: ['email'] }, captureContent: 'none' });
 * pipeline.register();
 * new NodeSDK({ sampler: pipeline.sampler(), spanProcessors: [
 *   pipeline.spanProcessor({ store }), new BatchSpanProcessor(pipeline.exporter(new OTLPTraceExporter())),
 * ] }).start();
 * ```
 */
export function createAuditPipeline(options: AuditPipelineOptions = {}): AuditPipeline {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError('createAuditPipeline: options must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!OPTIONS.includes(key)) {
      throw new TypeError(
        `createAuditPipeline: unknown option ${key}; expected one of ${OPTIONS.join(', ')}`,
      );
    }
  }
  const policy = createPipelinePolicy({
    redaction: options.redaction,
    captureContent: options.captureContent,
  });
  const pipeline: AuditPipeline = {
    ...policy,
    firstTime: (key) => policy.firstTime(key),
    wrapsExports: () => policy.wrapsExports(),
    noteExportWrapper: () => policy.noteExportWrapper(),
    spanProcessor: (processorOptions) =>
      new AuditSpanProcessor({ ...processorOptions, pipeline: policy }),
    sampler: (wrapped, samplerOptions) => new AuditSampler({ ...samplerOptions, root: wrapped }),
    exporter: (wrapped) => {
      const exporter = new RedactingSpanExporter(wrapped, { pipeline: policy });
      policy.noteExportWrapper();
      return exporter;
    },
    register: () => registerPipelinePolicy(policy),
  };
  return Object.freeze(pipeline);
}
