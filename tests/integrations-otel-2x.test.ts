/**
 * Set-ups that live on the OpenTelemetry JS 2.x line (api 1.9): Sentry 10 and `@vercel/otel` 2.1.
 * npm will not put them beside the 3.x line (api 1.10) this repository is developed on, so each
 * scenario runs as an ESM program in a throwaway app: the packed package, the 2.x line and the
 * SDK, installed the way a user gets them (tests/support/packed-app.ts). Programs write to a
 * fresh Postgres database; the test reads the rows. Sentry's DSN is a loopback server this test
 * runs, so nothing leaves the machine.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AI_AUDIT_ACTIONS } from '../src/actions.js';
import { type AuditLogEntry, queryAuditLogs } from '../src/entries/store.js';
import { openAuditStore } from '../src/store/open-store.js';
import {
  type LoopbackSink,
  sentryEnvelopeItems,
  startLoopbackSink,
} from './support/loopback-sink.js';
import { apiCopies, sharedOtel2xApp } from './support/packed-app.js';
import { testDatabaseUrl } from './support/postgres.js';
import { scratchDir } from './support/stores.js';

const SECRET = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123';
const REQUESTS = 10;

/**
 * What every scenario does once its set-up is registered: ten requests, each with an audited
 * tool call for alice (a secret among its params), then one audited call outside any request.
 * Prints the trace ids of the tool calls.
 */
const AUDITED_WORK = `
import { trace } from '@opentelemetry/api';
import { traceToolCall, withAuditContext } from 'aitrail';
const SECRET = ${JSON.stringify(SECRET)};
export async function auditedWork() {
  const tracer = trace.getTracer('app');
  const traceIds = [];
  for (let i = 0; i < ${REQUESTS}; i++) {
    traceIds.push(await tracer.startActiveSpan('POST /refund', async (request) => {
      request.setAttribute('http.request.header.authorization', 'Bearer ' + SECRET);
      const id = await withAuditContext({ tenantId: 'acme', actor: { type: 'user', id: 'user_alice' } }, () =>
        traceToolCall({ toolName: 'refund', params: { orderId: 'o-' + i, apiKey: SECRET } }, (span) => span.spanContext().traceId),
      );
      request.end();
      return id;
    }));
  }
  const outside = await traceToolCall(
    { toolName: 'nightly_report', actor: { type: 'service', id: 'scheduler' } },
    (span) => span.spanContext().traceId,
  );
  return { traceIds, outside };
}
`;

/** Sentry 10 as its docs say to join an existing set-up, with Sentry's sampler wrapped. */
const SENTRY_10_OWN_PROVIDER = `
import * as Sentry from '@sentry/node';
import { SentryPropagator, SentrySampler, SentrySpanProcessor } from '@sentry/opentelemetry';
import { context, propagation, trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { AuditSampler, AuditSpanProcessor } from 'aitrail/sdk';
import { openAuditStore } from 'aitrail/store';
import { auditedWork } from './audited-work.mjs';

const client = Sentry.init({
  dsn: process.env.SENTRY_DSN,
  tracesSampleRate: Number(process.env.SAMPLE_RATE),
  skipOpenTelemetrySetup: true,
});
const store = await openAuditStore();
const audit = new AuditSpanProcessor({ store, serviceName: 'sentry10-app' });
const provider = new BasicTracerProvider({
  sampler: new AuditSampler({
    root: new SentrySampler(client),
    recordUnsampledSpans: process.env.RECORD_UNSAMPLED === '1',
  }),
  spanProcessors: [new SentrySpanProcessor(), audit],
});
trace.setGlobalTracerProvider(provider);
propagation.setGlobalPropagator(new SentryPropagator());
context.setGlobalContextManager(new Sentry.SentryContextManager());
Sentry.validateOpenTelemetrySetup();

const result = await auditedWork();
await audit.forceFlush();
await provider.forceFlush();
await Sentry.flush(5000);
console.log(JSON.stringify(result));
await provider.shutdown();
await Sentry.close(1000);
await store.close();
`;

/** Sentry 10 building the provider itself, with aitrail's processor handed over. */
const SENTRY_10_OWN_SETUP = `
import * as Sentry from '@sentry/node';
import { AuditSpanProcessor } from 'aitrail/sdk';
import { openAuditStore } from 'aitrail/store';
import { auditedWork } from './audited-work.mjs';

const store = await openAuditStore();
const audit = new AuditSpanProcessor({ store, serviceName: 'sentry10-app' });
Sentry.init({
  dsn: process.env.SENTRY_DSN,
  tracesSampleRate: Number(process.env.SAMPLE_RATE),
  openTelemetrySpanProcessors: [audit],
});
const result = await auditedWork();
await audit.forceFlush();
await Sentry.flush(5000);
console.log(JSON.stringify(result));
await Sentry.close(1000);
await store.close();
`;

/** \`registerOTel\` with aitrail's processor, the sampler wrapped, and the exporter redacting. */
const VERCEL_OTEL = `
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { registerOTel } from '@vercel/otel';
import { AuditSampler, AuditSpanProcessor, RedactingSpanExporter } from 'aitrail/sdk';
import { openAuditStore } from 'aitrail/store';
import { auditedWork } from './audited-work.mjs';

const store = await openAuditStore();
const audit = new AuditSpanProcessor({ store, serviceName: 'vercel-app' });
const exported = new InMemorySpanExporter();
registerOTel({
  serviceName: 'vercel-app',
  traceSampler: new AuditSampler({ root: new TraceIdRatioBasedSampler(Number(process.env.SAMPLE_RATE)) }),
  spanProcessors: process.env.WITH_AUTO ? ['auto', audit] : [audit],
  traceExporter: new RedactingSpanExporter(exported),
});
const result = await auditedWork();
await audit.forceFlush();
const provider = trace.getTracerProvider().getDelegate();
await provider.forceFlush();
result.exported = exported.getFinishedSpans().map((span) => ({ name: span.name, attributes: span.attributes }));
console.log(JSON.stringify(result));
await provider.shutdown();
await store.close();
`;

interface WorkResult {
  traceIds: string[];
  outside: string;
  exported?: Array<{ name: string; attributes: Record<string, unknown> }>;
}

interface SentryTransaction {
  transaction?: string;
  contexts?: { trace?: { data?: Record<string, unknown> } };
  spans?: Array<{ description?: string; data?: Record<string, unknown> }>;
}

interface Run {
  result: WorkResult;
  stderr: string;
  rows: AuditLogEntry[];
}

describe('OpenTelemetry 2.x set-ups (Sentry 10, @vercel/otel 2.1) with the packed package', () => {
  let app: string;
  let sink: LoopbackSink;

  beforeAll(async () => {
    // The packed package and the 2.x line, installed once per run (the docs' 2.x blocks use it).
    app = await sharedOtel2xApp();
    writeFileSync(join(app, 'audited-work.mjs'), AUDITED_WORK);
  }, 600_000);

  beforeEach(async () => {
    sink = await startLoopbackSink();
  });

  afterEach(async () => {
    await sink.close();
  });

  /** Runs `program` in the app against a fresh database; returns its output and the rows. */
  async function run(name: string, program: string, env: Record<string, string>): Promise<Run> {
    writeFileSync(join(app, `${name}.mjs`), program);
    const databaseUrl = await testDatabaseUrl();
    const { code, stdout, stderr } = await new Promise<{
      code: number;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      execFile(
        process.execPath,
        [`${name}.mjs`],
        {
          cwd: app,
          timeout: 90_000,
          env: {
            ...process.env,
            // Sentry falls back to SENTRY_DSN: only the loopback sink may receive anything.
            SENTRY_DSN: '',
            ...env,
            DATABASE_URL: databaseUrl,
            AITRAIL_DATA_DIR: scratchDir(),
            NODE_OPTIONS: '',
            NODE_NO_WARNINGS: '1',
          },
        },
        (error, out, err) =>
          resolve({
            code: error ? ((error as { code?: number }).code ?? 1) : 0,
            stdout: out,
            stderr: err,
          }),
      );
    });
    expect(code, `${name} failed:\n${stdout}\n${stderr}`).toBe(0);
    const result = JSON.parse(stdout.trim().split('\n').pop() as string) as WorkResult;
    const store = await openAuditStore({ databaseUrl, dataDir: scratchDir() });
    try {
      const rows = await queryAuditLogs(store, { limit: 1000 });
      return { result, stderr, rows };
    } finally {
      await store.close();
    }
  }

  /** The rows every set-up must give: one per audited call, for its actor, params redacted. */
  function expectEveryAuditedCall({ result, rows }: Run): void {
    const refunds = rows.filter((row) => row.toolName === 'refund');
    expect(refunds.map((row) => row.traceId).sort()).toEqual([...result.traceIds].sort());
    for (const row of refunds) {
      expect(row).toMatchObject({
        action: AI_AUDIT_ACTIONS.TOOL_CALL,
        actorId: 'user_alice',
        tenantId: 'acme',
      });
      expect(row.metadata.toolParams).toMatchObject({
        apiKey: expect.stringMatching(/^\[REDACTED/),
      });
    }
    expect(rows.find((row) => row.toolName === 'nightly_report')).toMatchObject({
      traceId: result.outside,
      actorId: 'scheduler',
    });
    // No duplicates: exactly the audited calls, each once.
    expect(rows).toHaveLength(REQUESTS + 1);
    expect(new Set(rows.map((row) => row.eventId)).size).toBe(rows.length);
    expect(JSON.stringify(rows)).not.toContain(SECRET);
  }

  it('installs one @opentelemetry/api (1.9) beside Sentry 10 and @vercel/otel', () => {
    expect(apiCopies(app)).toHaveLength(1);
  });

  it.each([0, 0.1, 1])(
    'Sentry 10, skipOpenTelemetrySetup, SentrySampler wrapped in AuditSampler: every audited call is a row at tracesSampleRate %s',
    async (rate) => {
      const outcome = await run(`sentry10-${rate}`, SENTRY_10_OWN_PROVIDER, {
        SENTRY_DSN: sink.sentryDsn,
        SAMPLE_RATE: String(rate),
      });
      expectEveryAuditedCall(outcome);
      expect(outcome.stderr).not.toContain('aitrail:');
    },
  );

  it("Sentry 10 gets the audit spans without the tool's arguments, and the app's own spans as the app wrote them (its exporter is not aitrail's)", async () => {
    await run('sentry10-redaction', SENTRY_10_OWN_PROVIDER, {
      SENTRY_DSN: sink.sentryDsn,
      SAMPLE_RATE: '1',
    });
    const transactions = sentryEnvelopeItems(sink)
      .filter((item) => item.type === 'transaction')
      .map((item) => JSON.parse(item.body) as SentryTransaction);
    const auditSpans = transactions.flatMap((t) =>
      (t.spans ?? []).filter((span) => span.data?.['audit.action'] !== undefined),
    );
    expect(auditSpans).toHaveLength(REQUESTS);
    // Tool arguments reach only exporters wrapped by aitrail: Sentry's gets none, raw or redacted.
    for (const span of auditSpans) {
      expect(span.data?.['gen_ai.tool.call.arguments']).toBeUndefined();
      expect(JSON.stringify(span.data)).not.toContain(SECRET);
    }
    const requests = transactions.filter((t) => t.transaction === 'POST /refund');
    expect(requests[0]?.contexts?.trace?.data?.['http.request.header.authorization']).toBe(
      `Bearer ${SECRET}`,
    );
  });

  it('Sentry 10 at tracesSampleRate 0 receives no request, only the audit span that began its own trace', async () => {
    await run('sentry10-sent', SENTRY_10_OWN_PROVIDER, {
      SENTRY_DSN: sink.sentryDsn,
      SAMPLE_RATE: '0',
    });
    const transactions = sentryEnvelopeItems(sink).filter((item) => item.type === 'transaction');
    // AuditSampler samples every audit span; Sentry drops those under a request it did not sample.
    expect(transactions.map((item) => JSON.parse(item.body).transaction)).toEqual([
      'execute_tool nightly_report',
    ]);
  });

  it('Sentry 10 with recordUnsampledSpans receives every request at tracesSampleRate 0: its span processor sends whatever is recorded', async () => {
    await run('sentry10-record-unsampled', SENTRY_10_OWN_PROVIDER, {
      SENTRY_DSN: sink.sentryDsn,
      SAMPLE_RATE: '0',
      RECORD_UNSAMPLED: '1',
    });
    const transactions = sentryEnvelopeItems(sink)
      .filter((item) => item.type === 'transaction')
      .map((item) => (JSON.parse(item.body) as SentryTransaction).transaction);
    expect(transactions.filter((name) => name === 'POST /refund')).toHaveLength(REQUESTS);
  });

  it("Sentry 10's own set-up (openTelemetrySpanProcessors) at tracesSampleRate 0 records nothing, and aitrail says why", async () => {
    const { rows, stderr } = await run('sentry10-own-setup', SENTRY_10_OWN_SETUP, {
      SENTRY_DSN: sink.sentryDsn,
      SAMPLE_RATE: '0',
    });
    expect(rows).toEqual([]);
    expect(stderr).toMatch(/"execute_tool refund" was not recorded: .*sampled the span out/);
    expect(stderr).toMatch(
      /Sentry 10\.\d+\.\d+ is loaded: .*openTelemetrySpanProcessors.*skipOpenTelemetrySetup: true.*new AuditSampler\(\{ root: new SentrySampler\(client\) \}\)/,
    );
  });

  it.each([0, 0.1])(
    '@vercel/otel registerOTel with AuditSampler and aitrail processor: every audited call is a row at ratio %s, exports redacted',
    async (rate) => {
      const outcome = await run(`vercel-${rate}`, VERCEL_OTEL, { SAMPLE_RATE: String(rate) });
      expectEveryAuditedCall(outcome);
      expect(outcome.stderr).not.toContain('aitrail:');
      const exported = outcome.result.exported ?? [];
      // At ratio 0 the exporter gets the audit spans alone: AuditSampler samples them.
      if (rate === 0) {
        expect(new Set(exported.map((span) => span.name))).toEqual(
          new Set(['execute_tool refund', 'execute_tool nightly_report']),
        );
      }
      expect(exported.length).toBeGreaterThanOrEqual(REQUESTS + 1);
      expect(JSON.stringify(exported)).not.toContain(SECRET);
    },
  );

  it("@vercel/otel's 'auto' processors export around the redacting exporter: a configured OTLP endpoint receives the secret", async () => {
    // Why the docs list the processors: 'auto' adds @vercel/otel's own OTLP exporter.
    await run('vercel-auto', VERCEL_OTEL, {
      SAMPLE_RATE: '1',
      WITH_AUTO: '1',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.origin,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    const otlp = sink.received.filter((request) => request.path === '/v1/traces');
    expect(otlp.length).toBeGreaterThan(0);
    expect(otlp.map((request) => request.body).join('\n')).toContain(SECRET);
  });

  it('@vercel/otel without "auto": nothing reaches a configured OTLP endpoint around the redacting exporter', async () => {
    await run('vercel-explicit', VERCEL_OTEL, {
      SAMPLE_RATE: '1',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.origin,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    expect(sink.received).toEqual([]);
  });
});
