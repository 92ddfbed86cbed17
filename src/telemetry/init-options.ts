import { KeyObject } from 'node:crypto';
import type { InitAuditTelemetryOptions } from './init.js';

export const OPTION_KEYS: ReadonlySet<string> = new Set<string>([
  'serviceName',
  'databaseUrl',
  'dataDir',
  'otlpEndpoint',
  'migrate',
  'captureContent',
  'redaction',
  'signingKey',
  'witnessDir',
  'witnessUrl',
  'sampler',
  'instrumentations',
  'metricReaders',
  'delivery',
  'handleSignals',
  'openAIAgents',
  'recordUnsampledSpans',
]);

export const DELIVERY_KEYS = [
  'batchSize',
  'flushIntervalMs',
  'maxQueueRecords',
  'maxQueueBytes',
  'writeTimeoutMs',
  'shutdownDeadlineMs',
];

function fail(message: string): never {
  throw new TypeError(`initAuditTelemetry: ${message}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `${typeof value} ${typeof value === 'object' ? '' : String(value)}`.trim();
}

function optionalString(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
    fail(`${name} must be a non-empty string, got ${describe(value)}`);
  }
}

function optionalBoolean(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean')
    fail(`${name} must be true or false, got ${describe(value)}`);
}

/** Every option checked up front, so a typo fails the start instead of silently doing the default. */
export function checkInitOptions(options: unknown): asserts options is InitAuditTelemetryOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(`options must be an object, got ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.has(key))
      fail(`unknown option "${key}" (allowed: ${[...OPTION_KEYS].join(', ')})`);
  }
  optionalString('serviceName', o.serviceName);
  optionalString('databaseUrl', o.databaseUrl);
  optionalString('dataDir', o.dataDir);
  optionalString('otlpEndpoint', o.otlpEndpoint);
  optionalString('witnessDir', o.witnessDir);
  optionalString('witnessUrl', o.witnessUrl);
  if (typeof o.otlpEndpoint === 'string' && !/^https?:\/\//.test(o.otlpEndpoint)) {
    fail(`otlpEndpoint must be an http(s) URL, got ${JSON.stringify(o.otlpEndpoint)}`);
  }
  optionalBoolean('migrate', o.migrate);
  optionalBoolean('handleSignals', o.handleSignals);
  optionalBoolean('recordUnsampledSpans', o.recordUnsampledSpans);
  if (
    o.signingKey !== undefined &&
    typeof o.signingKey !== 'string' &&
    !(o.signingKey instanceof KeyObject)
  ) {
    fail(
      `signingKey must be a string (HMAC secret or PEM key) or a KeyObject, got ${describe(o.signingKey)}`,
    );
  }
  const sampler = o.sampler as { shouldSample?: unknown } | undefined;
  if (sampler !== undefined && (sampler === null || typeof sampler.shouldSample !== 'function')) {
    fail('sampler must be an OpenTelemetry Sampler (an object with shouldSample())');
  }
  if (o.instrumentations !== undefined && !Array.isArray(o.instrumentations))
    fail('instrumentations must be an array');
  if (o.metricReaders !== undefined && !Array.isArray(o.metricReaders))
    fail('metricReaders must be an array');
  if (o.delivery !== undefined) {
    if (o.delivery === null || typeof o.delivery !== 'object')
      fail(`delivery must be an object, got ${describe(o.delivery)}`);
    for (const [key, value] of Object.entries(o.delivery as Record<string, unknown>)) {
      if (!DELIVERY_KEYS.includes(key))
        fail(`unknown option "delivery.${key}" (allowed: ${DELIVERY_KEYS.join(', ')})`);
      if (
        value !== undefined &&
        (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
      ) {
        fail(`delivery.${key} must be a positive number, got ${describe(value)}`);
      }
    }
  }
}
