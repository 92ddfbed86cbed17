import { context, metrics, propagation, type TextMapPropagator, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import {
  defaultResource,
  detectResources,
  envDetector,
  hostDetector,
  osDetector,
  processDetector,
  type Resource,
  type ResourceDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
} from '@opentelemetry/resources';
import { type Sampler, type SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { AitrailError } from '../errors.js';
import { importOptionalPeer } from '../instrument/optional-peer.js';
import type { Redactor } from '../sanitize/types.js';
import { apiMismatch, assertNoTracerProvider } from './registration.js';

/** What `registerInstrumentations` needs of an OpenTelemetry instrumentation. */
export interface InstrumentationLike {
  setTracerProvider(provider: unknown): void;
  setMeterProvider?(provider: unknown): void;
  enable(): void;
  disable(): void;
}

export interface TraceSdkOptions {
  serviceName: string;
  sampler: Sampler;
  spanProcessors: SpanProcessor[];
  instrumentations: ReadonlyArray<InstrumentationLike | ReadonlyArray<InstrumentationLike>>;
  /** `@opentelemetry/sdk-metrics` readers; the meter provider is built only when there are some. */
  metricReaders: readonly object[];
  /**
   * The pipeline's redactor, for the resource metric readers get: their exporters are the app's,
   * not wrapped like the span exporter, and the resource holds the command line.
   */
  redactor: Redactor;
}

export interface TraceSdk {
  shutdown(): Promise<void>;
}

const DETECTORS: Record<string, ResourceDetector> = {
  env: envDetector,
  host: hostDetector,
  os: osDetector,
  process: processDetector,
  serviceinstance: serviceInstanceIdDetector,
};

/** `OTEL_NODE_RESOURCE_DETECTORS` as NodeSDK reads it: all by default, `none`, or a list. */
function resourceDetectors(): ResourceDetector[] {
  const names = listFromEnv('OTEL_NODE_RESOURCE_DETECTORS') ?? ['all'];
  if (names.includes('none')) return [];
  if (names.includes('all')) return Object.values(DETECTORS);
  return names.map((name) => {
    const detector = DETECTORS[name];
    if (!detector) {
      throw new TypeError(
        `OTEL_NODE_RESOURCE_DETECTORS: unknown detector "${name}" (use ${Object.keys(DETECTORS).join(', ')}, all or none)`,
      );
    }
    return detector;
  });
}

/** `OTEL_PROPAGATORS` as NodeSDK reads it; default W3C trace context and baggage. */
function propagatorFromEnv(): TextMapPropagator | null {
  const names = listFromEnv('OTEL_PROPAGATORS') ?? ['tracecontext', 'baggage'];
  if (names.includes('none')) return null;
  const propagators = names.map((name) => {
    if (name === 'tracecontext') return new W3CTraceContextPropagator();
    if (name === 'baggage') return new W3CBaggagePropagator();
    throw new TypeError(
      `OTEL_PROPAGATORS: "${name}" is not built in (tracecontext, baggage, none); register your own propagator with propagation.setGlobalPropagator() before initAuditTelemetry()`,
    );
  });
  return new CompositePropagator({ propagators });
}

function listFromEnv(name: string): string[] | undefined {
  const raw = process.env[name]?.trim();
  if (!raw) return undefined;
  return raw
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter(Boolean);
}

/**
 * The part of NodeSDK aitrail uses, without the log, metric and exporter packages it drags in:
 * resource detection, W3C propagation and AsyncLocalStorage context (each from `OTEL_*` env as
 * NodeSDK reads it), a tracer provider registered on the API, instrumentations, and a meter
 * provider when metric readers are given. A context manager or propagator the app registered
 * first is kept; another tracer provider is an error, since aitrail's processor cannot join it.
 */
export async function startTraceSdk(options: TraceSdkOptions): Promise<TraceSdk> {
  assertNoTracerProvider();
  const resource = defaultResource()
    .merge(detectResources({ detectors: resourceDetectors() }))
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }));
  const propagator = propagatorFromEnv();

  const contextManager = new AsyncLocalStorageContextManager();
  const ownsContext = context.setGlobalContextManager(contextManager.enable());
  if (!ownsContext) contextManager.disable();
  const ownsPropagation = propagator !== null && propagation.setGlobalPropagator(propagator);

  const meterProvider = await meterProviderFor(options.metricReaders, () =>
    resourceFromAttributes(options.redactor.redactAttributes(resource.attributes), {
      schemaUrl: resource.schemaUrl,
    }),
  );
  if (meterProvider) metrics.setGlobalMeterProvider(meterProvider);

  const tracerProvider = new TracerProvider({
    resource,
    sampler: options.sampler,
    spanProcessors: options.spanProcessors,
  });
  if (!trace.setGlobalTracerProvider(tracerProvider)) {
    assertNoTracerProvider();
    throw new AitrailError(
      'PROVIDER_ALREADY_REGISTERED',
      `initAuditTelemetry: the OpenTelemetry API refused the tracer provider: ${apiMismatch() ?? 'another registration holds the global'}. Install one copy of @opentelemetry/api (aitrail takes it as a peer dependency: \`npm ls @opentelemetry/api\`).`,
    );
  }

  const instrumentations = options.instrumentations.flat();
  for (const instrumentation of instrumentations) {
    instrumentation.setTracerProvider(tracerProvider);
    if (meterProvider) instrumentation.setMeterProvider?.(meterProvider);
    instrumentation.enable();
  }

  return {
    async shutdown() {
      for (const instrumentation of instrumentations) instrumentation.disable();
      await Promise.all([tracerProvider.shutdown(), meterProvider?.shutdown()]);
      trace.disable();
      if (meterProvider) metrics.disable();
      if (ownsContext) context.disable();
      if (ownsPropagation) propagation.disable();
    },
  };
}

async function meterProviderFor(
  readers: readonly object[],
  redactedResource: () => Resource,
): Promise<(import('@opentelemetry/api').MeterProvider & { shutdown(): Promise<void> }) | null> {
  if (readers.length === 0) return null;
  const resource = redactedResource();
  const { MeterProvider } = await importOptionalPeer(
    '@opentelemetry/sdk-metrics',
    'initAuditTelemetry({ metricReaders })',
    () => import('@opentelemetry/sdk-metrics'),
  );
  // The readers come from the app's own sdk-metrics; their type is not ours to name.
  return new MeterProvider({ resource, readers: readers as never[] });
}
