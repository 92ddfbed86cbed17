import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import { AitrailError } from '../errors.js';

/** Where every copy of `@opentelemetry/api` 1.x keeps its registrations. */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/** The no-op provider an unregistered API hands out (one per API copy). */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/** A short name for the tracer provider registered on the API, or null when there is none. */
export function registeredTracerProvider(): string | null {
  const provider = trace.getTracerProvider() as { getDelegate?: () => object };
  const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
  if (delegate === NOOP_PROVIDER) return null;
  // Bundled class names carry a suffix (`TracerProvider$1`); the reader wants the class.
  return delegate.constructor?.name?.replace(/\$\d+$/, '') || 'unnamed provider';
}

/**
 * When another copy of `@opentelemetry/api` registered the tracer provider, this copy cannot
 * see it (nor register its own): say which version it was.
 */
export function apiMismatch(): string | null {
  const registered = (
    globalThis as Record<symbol, { version?: unknown; trace?: unknown } | undefined>
  )[API_GLOBAL];
  if (!registered?.trace || registeredTracerProvider() !== null) return null;
  return `@opentelemetry/api ${String(registered.version)} registered the tracer provider, and the copy aitrail loads cannot use it`;
}

/** Why a helper's audit span is not recording, in terms the app can act on. */
export function whyNotRecording(): string {
  const mismatch = apiMismatch();
  if (mismatch) {
    return `two copies of @opentelemetry/api are installed (${mismatch}); install one (aitrail takes it as a peer dependency)`;
  }
  const provider = registeredTracerProvider();
  if (provider === null) {
    return 'no tracer provider is registered: initAuditTelemetry() has not run (or has shut down)';
  }
  return `the registered tracer provider (${provider}) sampled the span out: its sampler is not wrapped in AuditSampler (from aitrail/sdk; or compose with createAuditPipeline)`;
}

/** Throws `PROVIDER_ALREADY_REGISTERED`, with how to compose by hand, if a provider is registered. */
export function assertNoTracerProvider(): void {
  const existing = registeredTracerProvider();
  if (existing === null) return;
  throw new AitrailError(
    'PROVIDER_ALREADY_REGISTERED',
    `initAuditTelemetry: a tracer provider (${existing}) is already registered with the OpenTelemetry API, ` +
      'and OpenTelemetry tracer providers take span processors and samplers only in their constructor, so aitrail cannot join it. ' +
      'Either call initAuditTelemetry() before anything else registers a provider (and drop the other set-up), or compose by hand: ' +
      "with `import { AuditSampler, AuditSpanProcessor } from 'aitrail/sdk'`, pass `new AuditSampler({ root: yourSampler })` as the sampler " +
      'and `new AuditSpanProcessor({ store: await openAuditStore() })` (aitrail/store) in the spanProcessors of your own NodeSDK / TracerProvider, ' +
      'or the same pair from createAuditPipeline (see docs/configuration.md, "Bring your own SDK").',
  );
}
