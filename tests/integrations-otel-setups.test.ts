import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { queryAuditLogs } from '../src/entries/store.js';
import { AI_AUDIT_ACTIONS, traceToolCall, withAuditContext } from '../src/index.js';
import { AuditSampler } from '../src/processor/audit-sampler.js';
import { AuditSpanProcessor } from '../src/processor/audit-span-processor.js';
import { RedactingSpanExporter } from '../src/sanitize/index.js';
import { openTestStore, type TestStore } from './support/stores.js';

const alice = { type: 'user', id: 'user_alice' } as const;
const SECRET = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123';

/** What every set-up must give: the audited call as a row, and no secret in an exported span. */
async function auditedToolCall(): Promise<string> {
  return withAuditContext({ tenantId: 'acme', actor: alice }, () =>
    traceToolCall(
      { toolName: 'refund', params: { orderId: 'o-1', apiKey: SECRET } },
      (span) => span.spanContext().traceId,
    ),
  );
}

/** An HTTP round trip on loopback, for the auto-instrumentation to trace. */
async function httpRoundTrip(): Promise<void> {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/health' }, (res) => {
      res.resume();
      res.on('end', resolve);
    })
      .on('error', reject)
      .end();
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('existing OpenTelemetry set-ups with the building blocks', () => {
  let db: TestStore | undefined;
  let stop: (() => Promise<void>) | undefined;

  afterEach(async () => {
    await stop?.();
    stop = undefined;
    trace.disable();
    await db?.close();
    db = undefined;
  });

  it('own NodeSDK with an auto-instrumentation: audited rows kept at a 10% sampler, exported spans redacted', async () => {
    db = await openTestStore('postgres');
    const appExporter = new InMemorySpanExporter();
    const processor = new AuditSpanProcessor({ store: db.store, serviceName: 'own-sdk' });
    const sdk = new NodeSDK({
      serviceName: 'own-sdk',
      sampler: new AuditSampler({ root: new TraceIdRatioBasedSampler(0.1) }),
      spanProcessors: [
        processor,
        new BatchSpanProcessor({ exporter: new RedactingSpanExporter(appExporter) }),
      ],
      instrumentations: [new HttpInstrumentation()],
    });
    sdk.start();
    stop = () => sdk.shutdown();
    const traceIds: string[] = [];
    for (let i = 0; i < 10; i++) traceIds.push(await auditedToolCall());
    await httpRoundTrip();
    await processor.forceFlush();
    const rows = await queryAuditLogs(db.store, { action: AI_AUDIT_ACTIONS.TOOL_CALL, limit: 100 });
    expect(rows.map((r) => r.traceId).sort()).toEqual([...traceIds].sort());
    expect(rows[0]).toMatchObject({ actorId: 'user_alice', toolName: 'refund' });
    expect(JSON.stringify(rows)).not.toContain(SECRET);
    expect(JSON.stringify(appExporter.getFinishedSpans().map((s) => s.attributes))).not.toContain(
      SECRET,
    );
  });

  it("wraps an app's existing exporter: what reaches it is redacted, whatever the span carried", async () => {
    const appExporter = new InMemorySpanExporter();
    const batch = new BatchSpanProcessor({ exporter: new RedactingSpanExporter(appExporter) });
    const sdk = new NodeSDK({ serviceName: 'wrapped-exporter', spanProcessors: [batch] });
    sdk.start();
    stop = () => sdk.shutdown();
    trace.getTracer('app').startActiveSpan('charge', (span) => {
      span.setAttribute('payment.card', '4111 1111 1111 1111');
      span.setAttribute('http.request.header.authorization', `Bearer ${SECRET}`);
      span.end();
    });
    // Read before shutdown: the in-memory exporter forgets its spans when it shuts down.
    await batch.forceFlush();
    const exported = JSON.stringify(appExporter.getFinishedSpans().map((s) => s.attributes));
    expect(appExporter.getFinishedSpans().map((s) => s.name)).toEqual(['charge']);
    expect(exported).not.toContain('4111 1111 1111 1111');
    expect(exported).not.toContain(SECRET);
  });
});
