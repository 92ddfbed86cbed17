import type { KeyObject } from 'node:crypto';
import type { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Sampler, SpanProcessor } from '@opentelemetry/sdk-trace';
import { AitrailError } from '../errors.js';
import type { CaptureContent } from '../instrument/content-capture.js';
import {
  type InstrumentOpenAIAgentsOptions,
  instrumentOpenAIAgents,
  type OpenAIAgentsInstrumentation,
} from '../instrument/openai-agents.js';
import { auditRegistry } from '../pipeline/global-registry.js';
import type { AuditProcessorStats } from '../processor/audit-span-processor.js';
import type { RedactionPolicy } from '../sanitize/types.js';
import type { CheckpointRecord } from '../store/audit-record.js';
import type { AuditStore } from '../store/audit-store.js';
import {
  migrateUnlessOwnedElsewhere,
  openAuditStore,
  resolveDataDir,
} from '../store/open-store.js';
import { consoleLogger } from '../store/writer/logger.js';
import { describeError, isConnectionError } from '../store/writer/write-errors.js';
import { emitCheckpointSpan } from './checkpoint-span.js';
import { checkInitOptions } from './init-options.js';
import { assertNoTracerProvider } from './registration.js';
import { registerSelfMetrics } from './self-metrics.js';
import { installShutdownHooks } from './shutdown-hooks.js';
import type { InstrumentationLike } from './trace-sdk.js';

/**
 * The SDK parts, loaded on the first `initAuditTelemetry()` call so that importing the helpers
 * costs neither the trace SDK, the exporter nor the writer.
 */
async function loadSdkParts() {
  const [exporter, sdkTrace, sampler, writer, signer, traceSdk, envSampler, pipeline] =
    await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/sdk-trace'),
      import('../processor/audit-sampler.js'),
      import('../store/writer/audit-writer.js'),
      import('../store/writer/checkpoint-signer.js'),
      import('./trace-sdk.js'),
      import('./env-sampler.js'),
      import('../pipeline/audit-pipeline.js'),
    ]);
  return {
    OTLPTraceExporter: exporter.OTLPTraceExporter,
    BatchSpanProcessor: sdkTrace.BatchSpanProcessor,
    AuditSampler: sampler.AuditSampler,
    AuditWriter: writer.AuditWriter,
    createCheckpointSigner: signer.createCheckpointSigner,
    startTraceSdk: traceSdk.startTraceSdk,
    samplerFromEnv: envSampler.samplerFromEnv,
    createAuditPipeline: pipeline.createAuditPipeline,
  };
}

export interface InitAuditTelemetryOptions {
  /** `service.name`; default `OTEL_SERVICE_NAME`, else `aitrail-app`. */
  serviceName?: string;
  /** Postgres URL; default `DATABASE_URL`; absent ⇒ embedded PGlite under `dataDir`. */
  databaseUrl?: string;
  /** Embedded store and spill journal; default `AITRAIL_DATA_DIR`, else `./.aitrail`. */
  dataDir?: string;
  /** OTLP/HTTP base URL (e.g. `http://localhost:4318`); default `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  otlpEndpoint?: string;
  /** Apply migrations at start. Default `AITRAIL_MIGRATE`, else true; false when the app runs as the insert-only writer role. */
  migrate?: boolean;
  /** Prompt and completion capture. Default `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`, else `redacted`. */
  captureContent?: CaptureContent;
  /** Extra redaction rules (extra keys, detectors, modes, allow-list). */
  redaction?: RedactionPolicy;
  /** HMAC secret or Ed25519 private key (PEM) for checkpoints; default `AITRAIL_SIGNING_KEY`. */
  signingKey?: string | KeyObject;
  /** Directory every signed tree head is also appended to; default `AITRAIL_WITNESS_DIR`. */
  witnessDir?: string;
  /** HTTP endpoint every signed tree head is also POSTed to; default `AITRAIL_WITNESS_URL`. */
  witnessUrl?: string;
  /** Decides what is exported; wrapped by `AuditSampler`. Default from `OTEL_TRACES_SAMPLER`. */
  sampler?: Sampler;
  /** OpenTelemetry instrumentations to register (HTTP, database, AI SDKs, …). */
  instrumentations?: ReadonlyArray<InstrumentationLike | ReadonlyArray<InstrumentationLike>>;
  /** `@opentelemetry/sdk-metrics` metric readers; aitrail's own delivery counters are reported through them. */
  metricReaders?: readonly object[];
  /** Delivery tuning (see README "Delivery guarantees"). */
  delivery?: {
    batchSize?: number;
    flushIntervalMs?: number;
    maxQueueRecords?: number;
    maxQueueBytes?: number;
    /** A database call that takes longer counts as failed; connections are recycled. Default 15 s. */
    writeTimeoutMs?: number;
    /** How long shutdown (and SIGTERM/SIGINT) may spend draining before journaling the rest. Default 5 s. */
    shutdownDeadlineMs?: number;
  };
  /** Flush on SIGTERM, SIGINT and beforeExit. Default true. */
  handleSignals?: boolean;
  /**
   * Record (without exporting) spans the sampler drops, so span events or attributes carrying
   * `audit.action` added after a span started are audited even in unsampled traces. Default
   * false: only spans that declare `audit.action` at start (as the helpers do) are guaranteed.
   */
  recordUnsampledSpans?: boolean;
  /** Audit OpenAI Agents SDK runs (`@openai/agents`, an optional peer): see `instrumentOpenAIAgents`. */
  openAIAgents?: boolean | InstrumentOpenAIAgentsOptions;
}

export interface AuditTelemetry {
  readonly serviceName: string;
  /** The store records are written to (also usable with `queryAuditLogs`, `verifyAuditChains`). */
  readonly store: AuditStore;
  /** Resolves once every record so far is committed (or journaled while the database is down). */
  flush(): Promise<void>;
  /** Drains, writes a final checkpoint, stops the SDK and closes the store. */
  shutdown(): Promise<void>;
  /** Delivery counters: received, written, journaled, replayed, poisoned, dropped, queue depth, … */
  stats(): AuditProcessorStats;
  /** The OpenAI Agents SDK instrumentation (`openAIAgents` option), for its approval helpers; else null. */
  readonly openAIAgents: OpenAIAgentsInstrumentation | null;
}

/**
 * Starts the OpenTelemetry SDK with the audit processor (and, when an OTLP endpoint is
 * configured, a redacting OTLP/HTTP exporter). One instance per process at a time.
 */
export async function initAuditTelemetry(
  options: InitAuditTelemetryOptions = {},
): Promise<AuditTelemetry> {
  checkInitOptions(options);
  const registry = auditRegistry();
  if (registry.telemetry !== undefined) {
    throw new AitrailError(
      'ALREADY_INITIALISED',
      'initAuditTelemetry: already initialised in this process; call shutdown() on the running instance first',
    );
  }
  // Before anything is opened: aitrail cannot add its processor to a provider built elsewhere.
  assertNoTracerProvider();
  const sdkParts = await loadSdkParts();
  const { AuditSampler, AuditWriter, BatchSpanProcessor, createAuditPipeline } = sdkParts;
  const serviceName = options.serviceName ?? (process.env.OTEL_SERVICE_NAME || 'aitrail-app');
  // One policy for helpers, rows and exported spans (see createAuditPipeline).
  const pipeline = createAuditPipeline({
    redaction: options.redaction,
    captureContent: options.captureContent,
  });
  // Registered before integrations start, so they keep their state in this pipeline. A start that
  // fails later leaves it active: helpers then still follow the policy the app asked for.
  const unregisterPipeline = pipeline.register();
  const signingKey = options.signingKey ?? (process.env.AITRAIL_SIGNING_KEY || undefined);
  const signer = signingKey === undefined ? null : sdkParts.createCheckpointSigner(signingKey);
  const dataDir = resolveDataDir(options.dataDir);
  // Before anything is opened: a missing optional SDK fails the start with nothing to undo.
  const agents = await openAIAgentsOption(options.openAIAgents);

  // Everything that can fail on configuration alone fails before the store is opened.
  const exporter = otlpExporter(sdkParts.OTLPTraceExporter, options.otlpEndpoint);
  const sampler = new AuditSampler({
    root:
      options.sampler ?? (process.env.OTEL_TRACES_SAMPLER ? sdkParts.samplerFromEnv() : undefined),
    recordUnsampledSpans: options.recordUnsampledSpans === true,
  });

  const store = await openAuditStore({ databaseUrl: options.databaseUrl, dataDir, migrate: false });
  const prepare = await migrateOrDefer(store, options.migrate ?? envFlag('AITRAIL_MIGRATE', true));
  const writer = new AuditWriter({
    store,
    serviceName,
    batchSize: options.delivery?.batchSize,
    flushIntervalMs: options.delivery?.flushIntervalMs,
    maxQueueRecords: options.delivery?.maxQueueRecords,
    maxQueueBytes: options.delivery?.maxQueueBytes,
    writeTimeoutMs: options.delivery?.writeTimeoutMs,
    journalDir: `${dataDir}/journal`,
    prepare,
    checkpoints: {
      signer,
      onCheckpoint: (c: CheckpointRecord) => emitCheckpointSpan(c),
      witnessDir: options.witnessDir ?? (process.env.AITRAIL_WITNESS_DIR || null),
      witnessUrl: options.witnessUrl ?? (process.env.AITRAIL_WITNESS_URL || null),
    },
    logger: consoleLogger,
  });
  // Every exporter here is the pipeline's own: identity is written only where it is read.
  const processor = pipeline.spanProcessor({
    writer,
    serviceName,
    ownsWriter: false,
    stampIdentity: 'deferred',
  });
  const spanProcessors: SpanProcessor[] = [processor];
  if (exporter)
    spanProcessors.push(
      new BatchSpanProcessor({
        exporter: pipeline.exporter(exporter),
      }),
    );

  let sdk: Awaited<ReturnType<typeof sdkParts.startTraceSdk>>;
  try {
    sdk = await sdkParts.startTraceSdk({
      serviceName,
      sampler,
      spanProcessors,
      instrumentations: options.instrumentations ?? [],
      metricReaders: options.metricReaders ?? [],
      redactor: pipeline.redactor,
    });
  } catch (error) {
    await writer.shutdown({ deadlineMs: 1_000 }).catch(() => {});
    await store.close().catch(() => {});
    throw error;
  }
  const unregisterMetrics = registerSelfMetrics(() => processor.stats());

  let stopping: Promise<void> | null = null;
  const shutdownDeadlineMs = options.delivery?.shutdownDeadlineMs ?? 5_000;
  const telemetry: AuditTelemetry = {
    serviceName,
    store,
    openAIAgents: agents ?? null,
    flush: () => processor.forceFlush(),
    stats: () => processor.stats(),
    shutdown: () => {
      stopping ??= (async () => {
        removeHooks();
        unregisterMetrics();
        agents?.disable();
        // Drain first, so the final checkpoint span still reaches the exporter, then stop the SDK.
        // One deadline for all of it: the writer, then the exporter, then the connections.
        const deadline = Date.now() + shutdownDeadlineMs;
        const left = (reserveMs: number) => Math.max(100, deadline - Date.now() - reserveMs);
        processor.drainPending();
        await writer.shutdown({ deadlineMs: left(400) });
        await Promise.race([sdk.shutdown(), delay(left(200))]);
        await Promise.race([store.close(), delay(left(0))]);
        unregisterPipeline();
        registry.telemetry = undefined;
      })();
      return stopping;
    },
  };
  const removeHooks =
    options.handleSignals === false
      ? () => {}
      : installShutdownHooks({
          flush: telemetry.flush,
          shutdown: telemetry.shutdown,
          persistBeforeExit: () => {
            processor.drainPending();
            writer.persistBeforeExit();
          },
        });
  registry.telemetry = telemetry;
  return telemetry;
}

/**
 * Applies migrations now; if the database is unreachable, the app still starts and the writer
 * migrates before its first write, holding records meanwhile. Any other failure (missing
 * privileges, a broken schema) stops the start with a clear error.
 */
async function migrateOrDefer(
  store: AuditStore,
  migrate: boolean,
): Promise<(() => Promise<void>) | undefined> {
  if (!migrate) return undefined;
  try {
    await migrateUnlessOwnedElsewhere(store);
    return undefined;
  } catch (error) {
    if (!isConnectionError(error)) {
      await store.close().catch(() => {});
      throw error;
    }
    consoleLogger.warn(
      `database unreachable at start (${describeError(error)}); records are held and written once it answers`,
    );
    return async () => {
      await migrateUnlessOwnedElsewhere(store);
    };
  }
}

function envFlag(name: string, fallback: boolean): boolean {
  const raw = process.env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new TypeError(`${name} must be true or false, got ${JSON.stringify(process.env[name])}`);
}

async function openAIAgentsOption(
  option: InitAuditTelemetryOptions['openAIAgents'],
): Promise<OpenAIAgentsInstrumentation | undefined> {
  if (option === undefined || option === false) return undefined;
  if (option === true) return instrumentOpenAIAgents();
  if (option === null || typeof option !== 'object') {
    throw new TypeError('initAuditTelemetry: openAIAgents must be a boolean or an options object');
  }
  return instrumentOpenAIAgents(option);
}

function otlpExporter(
  Exporter: typeof OTLPTraceExporter,
  endpointOption?: string,
): OTLPTraceExporter | null {
  if (endpointOption !== undefined) {
    if (!/^https?:\/\//.test(endpointOption)) {
      throw new TypeError(
        `initAuditTelemetry: otlpEndpoint must be an http(s) URL, got ${JSON.stringify(endpointOption)}`,
      );
    }
    return new Exporter({ url: `${endpointOption.replace(/\/+$/, '')}/v1/traces` });
  }
  if (process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    return new Exporter();
  }
  return null;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
