import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';

/**
 * The sampler `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` describe, as the SDK would build
 * it. Built here because passing any sampler to NodeSDK turns its own env handling off, and
 * ours must wrap the user's choice rather than replace it.
 */
export function samplerFromEnv(): Sampler {
  const name = process.env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on';
  const ratio = () => {
    const raw = process.env.OTEL_TRACES_SAMPLER_ARG;
    const value = raw === undefined || raw.trim() === '' ? 1 : Number(raw);
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      throw new TypeError(
        `OTEL_TRACES_SAMPLER_ARG must be a number in [0, 1], got ${JSON.stringify(raw)}`,
      );
    }
    return value;
  };
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      throw new TypeError(
        `OTEL_TRACES_SAMPLER "${name}" is not supported (use always_on, always_off, traceidratio or their parentbased_ forms)`,
      );
  }
}
