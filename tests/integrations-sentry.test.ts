/**
 * Sentry 11 (`@sentry/node`) beside aitrail. Sentry 11 registers no OpenTelemetry tracer provider
 * unless `enableOpenTelemetrySetup` is on, and it dropped `openTelemetrySpanProcessors`: the
 * composition is aitrail's own provider beside Sentry, whatever Sentry samples. Where a set-up
 * would record nothing, the helper says why. Sentry's DSN is a loopback server this test runs.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import * as Sentry from '@sentry/node';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { AI_AUDIT_ACTIONS } from '../src/actions.js';
import { type AuditLogEntry, queryAuditLogs } from '../src/entries/store.js';
import { recordAuditEvent, traceToolCall, withAuditContext } from '../src/index.js';
import { createAuditPipeline } from '../src/pipeline/audit-pipeline.js';
import { AuditSampler } from '../src/processor/audit-sampler.js';
import { AuditSpanProcessor } from '../src/processor/audit-span-processor.js';
import { type AuditTelemetry, initAuditTelemetry } from '../src/telemetry/init.js';
import {
  type LoopbackSink,
  sentryEnvelopeItems,
  startLoopbackSink,
} from './support/loopback-sink.js';
import { testDatabaseUrl } from './support/postgres.js';
import { openTestStore, scratchDir, type TestStore } from './support/stores.js';

// Sentry falls back to SENTRY_DSN: only a loopback sink (or nothing) may receive anything.
delete process.env.SENTRY_DSN;

const SECRET = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123';
const REQUESTS = 10;
const alice = { type: 'user', id: 'user_alice' } as const;

/** Ten requests (spans of the app's own tracer), each with an audited tool call for alice. */
async function auditedRequests(): Promise<string[]> {
  const tracer = trace.getTracer('app');
  const traceIds: string[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    traceIds.push(
      await tracer.startActiveSpan('POST /refund', async (request) => {
        const traceId = await withAuditContext({ tenantId: 'acme', actor: alice }, () =>
          traceToolCall(
            { toolName: 'refund', params: { orderId: `o-${i}`, apiKey: SECRET } },
            (span) => span.spanContext().traceId,
          ),
        );
        request.end();
        return traceId;
      }),
    );
  }
  return traceIds;
}

/** One row per audited call, for alice, params redacted, none twice. */
function expectEveryCall(rows: AuditLogEntry[], traceIds: string[]): void {
  expect(rows.map((row) => row.traceId).sort()).toEqual([...traceIds].sort());
  expect(new Set(rows.map((row) => row.eventId)).size).toBe(rows.length);
  for (const row of rows) {
    expect(row).toMatchObject({
      action: AI_AUDIT_ACTIONS.TOOL_CALL,
      actorId: 'user_alice',
      tenantId: 'acme',
      toolName: 'refund',
    });
    expect(row.metadata.toolParams).toMatchObject({ apiKey: expect.stringMatching(/^\[REDACTED/) });
  }
  expect(JSON.stringify(rows)).not.toContain(SECRET);
}

describe('Sentry 11 beside aitrail', () => {
  let sink: LoopbackSink;
  let telemetry: AuditTelemetry | undefined;
  let db: TestStore | undefined;
  let stopSdk: (() => Promise<void>) | undefined;
  let warn: MockInstance<typeof console.warn>;

  beforeEach(async () => {
    sink = await startLoopbackSink();
    warn = vi.spyOn(console, 'warn');
  });

  afterEach(async () => {
    await Sentry.close(2000);
    await telemetry?.shutdown();
    telemetry = undefined;
    await stopSdk?.();
    stopSdk = undefined;
    await db?.close();
    db = undefined;
    trace.disable();
    context.disable();
    propagation.disable();
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS;
    vi.restoreAllMocks();
    await sink.close();
  });

  function aitrailWarnings(): string[] {
    return warn.mock.calls
      .map((call) => String(call[0]))
      .filter((text) => text.startsWith('aitrail:'));
  }

  it.each([0, 0.1, 1])(
    'initAuditTelemetry beside Sentry.init: every audited call is a row at tracesSampleRate %s',
    async (rate) => {
      Sentry.init({ dsn: sink.sentryDsn, tracesSampleRate: rate });
      telemetry = await initAuditTelemetry({
        databaseUrl: await testDatabaseUrl(),
        dataDir: scratchDir(),
        serviceName: 'sentry11-app',
        handleSignals: false,
      });
      const traceIds = await auditedRequests();
      await telemetry.flush();
      expectEveryCall(await queryAuditLogs(telemetry.store, { limit: 1000 }), traceIds);
      expect(aitrailWarnings()).toEqual([]);
    },
  );

  it("the app's own NodeSDK with the building blocks beside Sentry.init keeps every call at tracesSampleRate 0", async () => {
    Sentry.init({ dsn: sink.sentryDsn, tracesSampleRate: 0 });
    db = await openTestStore('postgres');
    const audit = new AuditSpanProcessor({ store: db.store, serviceName: 'sentry11-own-sdk' });
    const sdk = new NodeSDK({
      serviceName: 'sentry11-own-sdk',
      sampler: new AuditSampler({ root: new TraceIdRatioBasedSampler(0) }),
      spanProcessors: [audit],
    });
    sdk.start();
    stopSdk = () => sdk.shutdown();
    const traceIds = await auditedRequests();
    await audit.forceFlush();
    expectEveryCall(await queryAuditLogs(db.store, { limit: 1000 }), traceIds);
    expect(aitrailWarnings()).toEqual([]);
  });

  it("Sentry events carry the audit row's trace id (openTelemetryIntegration), and the app's spans reach Sentry's OTLP endpoint redacted", async () => {
    Sentry.init({
      dsn: sink.sentryDsn,
      tracesSampleRate: 0,
      integrations: [Sentry.openTelemetryIntegration()],
    });
    const otlp = Sentry.getOtlpTracesEndpoint(sink.sentryDsn);
    if (!otlp) throw new Error('Sentry gave no OTLP endpoint for the DSN');
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = otlp.url;
    process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS = Object.entries(otlp.headers)
      .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
      .join(',');
    telemetry = await initAuditTelemetry({
      databaseUrl: await testDatabaseUrl(),
      dataDir: scratchDir(),
      serviceName: 'sentry11-linked',
      handleSignals: false,
    });
    const traceId = await trace
      .getTracer('app')
      .startActiveSpan('POST /refund', async (request) => {
        request.setAttribute('http.request.header.authorization', `Bearer ${SECRET}`);
        const id = await withAuditContext({ tenantId: 'acme', actor: alice }, () =>
          traceToolCall({ toolName: 'refund', params: { apiKey: SECRET } }, (span) => {
            Sentry.captureException(new Error('refund failed'));
            return span.spanContext().traceId;
          }),
        );
        request.end();
        return id;
      });
    await telemetry.flush();
    const rows = await queryAuditLogs(telemetry.store, { limit: 10 });
    await telemetry.shutdown(); // drains the exporter too
    telemetry = undefined;
    await Sentry.flush(5000);

    expect(rows.map((row) => row.traceId)).toEqual([traceId]);
    const events = sentryEnvelopeItems(sink)
      .filter((item) => item.type === 'event')
      .map((item) => JSON.parse(item.body) as { contexts?: { trace?: { trace_id?: string } } });
    expect(events.map((event) => event.contexts?.trace?.trace_id)).toEqual([traceId]);

    const exported = sink.received.filter((request) => request.path === new URL(otlp.url).pathname);
    expect(exported.length).toBeGreaterThan(0);
    expect(exported[0]?.headers['x-sentry-auth']).toBe(otlp.headers['X-Sentry-Auth']);
    const bodies = exported.map((request) => request.body).join('\n');
    expect(bodies).toContain(traceId);
    expect(bodies).toContain('execute_tool refund');
    expect(bodies).not.toContain(SECRET);
  });

  it('with enableOpenTelemetrySetup, initAuditTelemetry refuses and says to leave it off', async () => {
    Sentry.init({ dsn: sink.sentryDsn, tracesSampleRate: 1, enableOpenTelemetrySetup: true });
    await expect(
      initAuditTelemetry({
        databaseUrl: await testDatabaseUrl(),
        dataDir: scratchDir(),
        handleSignals: false,
      }),
    ).rejects.toMatchObject({
      code: 'PROVIDER_ALREADY_REGISTERED',
      message: expect.stringMatching(
        /\(SentryTracerProvider\).*with Sentry 11, leave enableOpenTelemetrySetup off/s,
      ),
    });
  });

  it.each([
    [1, 'makes no audit row'],
    [0, 'was not recorded'],
  ])(
    "with enableOpenTelemetrySetup, the app's own NodeSDK started after Sentry is never registered, and at tracesSampleRate %s the helper says it %s",
    async (rate, said) => {
      const unregister = createAuditPipeline().register(); // its own once-only warnings
      try {
        Sentry.init({
          dsn: sink.sentryDsn,
          tracesSampleRate: rate,
          enableOpenTelemetrySetup: true,
        });
        db = await openTestStore('postgres');
        const audit = new AuditSpanProcessor({ store: db.store });
        const sdk = new NodeSDK({ sampler: new AuditSampler(), spanProcessors: [audit] });
        sdk.start();
        stopSdk = () => sdk.shutdown();
        await auditedRequests();
        await audit.forceFlush();
        expect(await queryAuditLogs(db.store, { limit: 1000 })).toEqual([]);
        expect(aitrailWarnings()).toHaveLength(1);
        expect(aitrailWarnings()[0]).toMatch(
          new RegExp(
            `"execute_tool refund" ${said}: the registered tracer provider is Sentry's SentryTracerProvider \\(Sentry 11\\.\\d+\\.\\d+\\).*leave enableOpenTelemetrySetup off`,
          ),
        );
      } finally {
        unregister();
      }
    },
  );

  it('given the removed openTelemetrySpanProcessors option and no provider of its own, the helper names Sentry 11', async () => {
    const unregister = createAuditPipeline().register();
    try {
      db = await openTestStore('postgres');
      const audit = new AuditSpanProcessor({ store: db.store });
      // Sentry 9 and 10 took this option; Sentry 11 ignores it (and its types reject it).
      Sentry.init({
        dsn: sink.sentryDsn,
        tracesSampleRate: 1,
        openTelemetrySpanProcessors: [audit],
      } as Sentry.NodeOptions);
      recordAuditEvent({ action: 'billing.refund_issued', actor: alice });
      await audit.forceFlush();
      expect(await queryAuditLogs(db.store, { limit: 10 })).toEqual([]);
      expect(aitrailWarnings()).toHaveLength(1);
      expect(aitrailWarnings()[0]).toMatch(
        /"billing.refund_issued" was not recorded: no tracer provider is registered: .*Sentry 11\.\d+\.\d+ is loaded and registers no tracer provider by default and ignores openTelemetrySpanProcessors: start initAuditTelemetry\(\) beside it/,
      );
      await audit.shutdown();
    } finally {
      unregister();
    }
  });
});
