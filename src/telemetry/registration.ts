import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import { AitrailError } from '../errors.js';

/** Where every copy of `@opentelemetry/api` 1.x keeps its registrations. */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

/** The no-op provider an unregistered API hands out (one per API copy). */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Set by `AuditSpanProcessor.onStart` on each audit span it sees. A `Symbol.for` key, so the
 * ESM and CommonJS copies of aitrail (and two installed copies) agree on it.
 */
const SEEN_BY_AUDIT_PROCESSOR = Symbol.for('aitrail.seenByAuditSpanProcessor');

/** Where every Sentry SDK keeps its process-wide state; `version` is the first one loaded. */
const SENTRY_CARRIER = '__SENTRY__';

/** Sentry's own provider: it makes Sentry spans and runs no OpenTelemetry span processor. */
const SENTRY_PROVIDER = 'SentryTracerProvider';

/** Where the supported compositions with Sentry are written down. */
const SENTRY_DOCS = 'docs/integrations.md, "Sentry"';

/** Marks a span as seen by an `AuditSpanProcessor` (called from its `onStart`). */
export function markSeenByAuditProcessor(span: object): void {
  (span as Record<symbol, boolean>)[SEEN_BY_AUDIT_PROCESSOR] = true;
}

/** Whether an `AuditSpanProcessor` saw this span start: if not, it makes no audit row. */
export function seenByAuditProcessor(span: object): boolean {
  return (span as Record<symbol, boolean | undefined>)[SEEN_BY_AUDIT_PROCESSOR] === true;
}

/** A short name for the tracer provider registered on the API, or null when there is none. */
export function registeredTracerProvider(): string | null {
  const provider = trace.getTracerProvider() as { getDelegate?: () => object };
  const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
  if (delegate === NOOP_PROVIDER) return null;
  // Bundled class names carry a suffix (`TracerProvider$1`); the reader wants the class.
  const name = delegate.constructor?.name?.replace(/\$\d+$/, '') ?? '';
  if (name === '') return 'unnamed provider';
  // A minified bundle (@vercel/otel's, for one) leaves a name that tells the reader nothing.
  return name.length <= 2 ? `a bundled provider whose class name is minified to "${name}"` : name;
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
  const hint = sentryApiHint(String(registered.version));
  return `@opentelemetry/api ${String(registered.version)} registered the tracer provider, and the copy aitrail loads cannot use it${hint}`;
}

/** The Sentry SDK version loaded in this process, read from the carrier every Sentry SDK shares. */
function sentryVersion(): string | null {
  const carrier = (globalThis as Record<string, { version?: unknown } | undefined>)[SENTRY_CARRIER];
  return typeof carrier?.version === 'string' ? carrier.version : null;
}

function sentryMajor(): number | null {
  const version = sentryVersion();
  return version === null ? null : Number.parseInt(version, 10);
}

/** Sentry 10 depends on `@opentelemetry/api` below 1.10, so npm gives it its own copy beside 1.10. */
function sentryApiHint(registeredApiVersion: string): string {
  const major = sentryMajor();
  if (major === null || major > 10 || !/^1\.[0-9]\./.test(registeredApiVersion)) return '';
  return (
    `. Sentry ${sentryVersion()} is loaded: it depends on @opentelemetry/api below 1.10, brings that copy and registered its provider through it. ` +
    `With OpenTelemetry 3.x (api 1.10) use Sentry 11; keep a Sentry 10 app on the OpenTelemetry 2.x line (api 1.9) and compose as ${SENTRY_DOCS} shows`
  );
}

/** What to do when Sentry's own provider holds the global: it cannot carry aitrail's processor. */
function sentryProviderAdvice(): string {
  return (
    `the registered tracer provider is Sentry's ${SENTRY_PROVIDER}${sentryVersion() === null ? '' : ` (Sentry ${sentryVersion()})`}, which makes Sentry spans and runs no OpenTelemetry span processor, so no AuditSpanProcessor can see them. ` +
    'Sentry 11: leave enableOpenTelemetrySetup off and start initAuditTelemetry() (or your own provider with the aitrail/sdk parts); ' +
    `Sentry 10: set skipOpenTelemetrySetup: true and register your own provider with Sentry's sampler wrapped in AuditSampler (${SENTRY_DOCS})`
  );
}

/** Sentry is loaded and a provider sampled an audit span out: Sentry 10 may have built it. */
function sentrySamplerHint(): string {
  const major = sentryMajor();
  if (major === null || major > 10) return '';
  return (
    `. Sentry ${sentryVersion()} is loaded: a provider it builds (openTelemetrySpanProcessors) samples with tracesSampleRate through SentrySampler; ` +
    `set skipOpenTelemetrySetup: true and register your own provider with new AuditSampler({ root: new SentrySampler(client) }) (${SENTRY_DOCS})`
  );
}

/** Sentry is loaded and nothing is registered: it was never going to carry aitrail's processor. */
function sentryRegistersNoneNote(): string {
  const major = sentryMajor();
  if (major === null) return '';
  const why =
    major >= 11
      ? 'registers no tracer provider by default and ignores openTelemetrySpanProcessors'
      : 'registers none when skipOpenTelemetrySetup is set';
  return `; Sentry ${sentryVersion()} is loaded and ${why}: start initAuditTelemetry() beside it, or register your own provider with the aitrail/sdk parts (${SENTRY_DOCS})`;
}

/** Why a helper's audit span is not recording, in terms the app can act on. */
export function whyNotRecording(): string {
  const mismatch = apiMismatch();
  if (mismatch) {
    return `two copies of @opentelemetry/api are installed: ${mismatch}. Install one (aitrail takes it as a peer dependency)`;
  }
  const provider = registeredTracerProvider();
  if (provider === null) {
    return `no tracer provider is registered: initAuditTelemetry() has not run (or has shut down)${sentryRegistersNoneNote()}`;
  }
  if (provider === SENTRY_PROVIDER) return sentryProviderAdvice();
  return `the registered tracer provider (${provider}) sampled the span out: its sampler is not wrapped in AuditSampler (from aitrail/sdk; or compose with createAuditPipeline)${sentrySamplerHint()}`;
}

/** Why a helper's audit span was recorded but no `AuditSpanProcessor` saw it start. */
export function whyNotAudited(): string {
  const provider = registeredTracerProvider();
  if (provider === SENTRY_PROVIDER) return sentryProviderAdvice();
  return (
    `the registered tracer provider (${provider ?? 'none'}) has no AuditSpanProcessor: add one to its spanProcessors, ` +
    'or make sure the provider that has one is the registered one (the OpenTelemetry API keeps the first registration and ignores later ones, ' +
    'so a provider another SDK registered first, such as Sentry or @vercel/otel, wins over yours)'
  );
}

/** Throws `PROVIDER_ALREADY_REGISTERED`, with how to compose by hand, if a provider is registered. */
export function assertNoTracerProvider(): void {
  const existing = registeredTracerProvider();
  if (existing === null) return;
  const sentry =
    existing === SENTRY_PROVIDER
      ? ` It is Sentry's: with Sentry 11, leave enableOpenTelemetrySetup off (Sentry then registers none) and call initAuditTelemetry() as before; with Sentry 10, set skipOpenTelemetrySetup: true and compose by hand (${SENTRY_DOCS}).`
      : '';
  throw new AitrailError(
    'PROVIDER_ALREADY_REGISTERED',
    `initAuditTelemetry: a tracer provider (${existing}) is already registered with the OpenTelemetry API, ` +
      'and OpenTelemetry tracer providers take span processors and samplers only in their constructor, so aitrail cannot join it. ' +
      'Either call initAuditTelemetry() before anything else registers a provider (and drop the other set-up), or compose by hand: ' +
      "with `import { AuditSampler, AuditSpanProcessor } from 'aitrail/sdk'`, pass `new AuditSampler({ root: yourSampler })` as the sampler " +
      'and `new AuditSpanProcessor({ store: await openAuditStore() })` (aitrail/store) in the spanProcessors of your own NodeSDK / TracerProvider, ' +
      `or the same pair from createAuditPipeline (see docs/configuration.md, "Bring your own SDK").${sentry}`,
  );
}
