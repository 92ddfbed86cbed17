import { type SpanContext, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AuditLogEntry, queryAuditLogs } from '../src/entries/store.js';
import {
  AI_AUDIT_ACTIONS,
  initAuditTelemetry,
  recordApproval,
  traceChat,
  traceToolCall,
  withAuditContext,
} from '../src/index.js';
import {
  normalizeTrace,
  type OtlpReceiver,
  type Received,
  startOtlpReceiver,
} from './support/otlp-receiver.js';
import { testDatabaseUrl } from './support/postgres.js';
import { scratchDir } from './support/stores.js';

/** One span as the receiver decoded it, ids as lowercase hex. */
interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  scope: string | undefined;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

const SERVICE = 'export-test';
const alice = { type: 'user', id: 'user_alice' } as const;
const carol = { type: 'user', id: 'manager_carol' } as const;

/**
 * OTLP ids arrive as hex (http/json), base64 (http/protobuf, normalised by protobufjs) or
 * bytes (gRPC); compare them as lowercase hex.
 */
function hexId(value: unknown, bytes: 8 | 16): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
    return Buffer.from((value as { data: number[] }).data).toString('hex');
  }
  if (typeof value !== 'string') throw new Error(`unexpected OTLP id ${JSON.stringify(value)}`);
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(value)) return value.toLowerCase();
  const decoded = Buffer.from(value, 'base64');
  if (decoded.length !== bytes) throw new Error(`unexpected OTLP id ${JSON.stringify(value)}`);
  return decoded.toString('hex');
}

function exportedSpans(received: Received): ExportedSpan[] {
  const spans: ExportedSpan[] = [];
  for (const request of received.traceRequests) {
    for (const resourceSpans of normalizeTrace(request).resourceSpans ?? []) {
      const resource = resourceSpans.resource?.attributes ?? {};
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          spans.push({
            traceId: hexId(span.traceId, 16) as string,
            spanId: hexId(span.spanId, 8) as string,
            parentSpanId: hexId(span.parentSpanId, 8),
            name: span.name,
            scope: scopeSpans.scope?.name,
            attributes: span.attributes ?? {},
            resource,
          });
        }
      }
    }
  }
  return spans;
}

function spanWithId(
  spans: ExportedSpan[],
  spanContext: Pick<SpanContext, 'traceId' | 'spanId'>,
): ExportedSpan {
  const found = spans.filter(
    (s) => s.traceId === spanContext.traceId && s.spanId === spanContext.spanId,
  );
  if (found.length !== 1) {
    throw new Error(
      `expected one exported span ${spanContext.traceId}/${spanContext.spanId}, got ${found.length}; ` +
        `received: ${spans.map((s) => `${s.name} ${s.spanId}`).join(', ')}`,
    );
  }
  return found[0] as ExportedSpan;
}

describe('OTLP export through initAuditTelemetry to a real OTLP receiver', () => {
  let receiver: OtlpReceiver;
  let otlpEndpoint: string;
  let received: Received;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    otlpEndpoint = receiver.endpoint;
  });

  afterAll(async () => {
    await receiver?.close();
  });

  beforeEach(() => {
    receiver.reset();
    received = receiver.received;
  });

  /** Runs `scenario` under a fresh SDK; returns the audit rows (read before shutdown) and what was exported. */
  async function exportRun<T>(scenario: () => Promise<T>) {
    const telemetry = await initAuditTelemetry({
      otlpEndpoint,
      // A database per run, so each test sees only its own rows.
      databaseUrl: await testDatabaseUrl(),
      dataDir: scratchDir(),
      serviceName: SERVICE,
      handleSignals: false,
    });
    let result: T;
    let rows: AuditLogEntry[];
    let tableText: string;
    try {
      result = await scenario();
      await telemetry.flush();
      rows = await queryAuditLogs(telemetry.store, { limit: 1000, order: 'asc' });
      const dump = await telemetry.store.query<{ row: string }>(
        `select t::text as row from audit_logs t union all select v::text from audit_personal_data v
         union all select c::text from audit_checkpoints c`,
      );
      tableText = dump.map((d) => d.row).join('\n');
    } finally {
      // Shutdown flushes the BatchSpanProcessor, so the receiver has every span afterwards.
      await telemetry.shutdown();
    }
    return { result, rows, tableText, spans: exportedSpans(received) };
  }

  it('exports every span, audit and ordinary, with parent links, audit attributes and the service name, and each audit row points at its exported span', async () => {
    const app = trace.getTracer('app');
    const {
      result: ids,
      rows,
      spans,
    } = await exportRun(async () => {
      const inRequest = await withAuditContext({ tenantId: 'acme', actor: alice }, () =>
        app.startActiveSpan('POST /chat', async (request) => {
          try {
            const chat = await traceChat(
              {
                model: 'gpt-4o-mini',
                provider: 'openai',
                conversationId: 'conv_42',
                content: 'where is my order?',
              },
              (chatSpan) => {
                chatSpan.setUsage({ inputTokens: 12, outputTokens: 3 });
                return chatSpan.span.spanContext();
              },
            );
            const approval = recordApproval({
              status: 'approved',
              approvalId: 'appr_7',
              approver: carol,
              toolName: 'lookup_order',
              conversationId: 'conv_42',
            });
            const tool = await traceToolCall(
              {
                toolName: 'lookup_order',
                toolCallId: 'call_1',
                conversationId: 'conv_42',
                params: { orderId: 'ORD-2026-000481' },
              },
              async (toolSpan) => {
                const query = app.startSpan('SELECT orders', {
                  attributes: { 'db.system.name': 'postgresql' },
                });
                query.end();
                return { tool: toolSpan.spanContext(), query: query.spanContext() };
              },
            );
            return { request: request.spanContext(), chat: chat, approval, ...tool };
          } finally {
            request.end();
          }
        }),
      );
      const health = app.startSpan('GET /healthz');
      health.end();
      return { ...inRequest, health: health.spanContext() };
    });

    // Every span reached the receiver, each exactly once, only over OTLP/HTTP traces requests.
    expect(received.httpRequests.length).toBeGreaterThan(0);
    for (const request of received.httpRequests) {
      expect(request).toMatchObject({ method: 'POST', path: '/v1/traces' });
    }
    const request = spanWithId(spans, ids.request);
    const chat = spanWithId(spans, ids.chat);
    const approval = spanWithId(spans, ids.approval);
    const tool = spanWithId(spans, ids.tool);
    const query = spanWithId(spans, ids.query);
    const health = spanWithId(spans, ids.health);

    // Parent links: POST /chat → {chat, approval, execute_tool → SELECT orders}, one trace.
    expect(request.parentSpanId).toBeUndefined();
    expect(chat.parentSpanId).toBe(request.spanId);
    expect(approval.parentSpanId).toBe(request.spanId);
    expect(tool.parentSpanId).toBe(request.spanId);
    expect(query.parentSpanId).toBe(tool.spanId);
    for (const span of [chat, approval, tool, query]) expect(span.traceId).toBe(request.traceId);
    expect(health.parentSpanId).toBeUndefined();
    expect(health.traceId).not.toBe(request.traceId);

    expect(request.name).toBe('POST /chat');
    expect(chat.name).toBe('chat gpt-4o-mini');
    expect(tool.name).toBe('execute_tool lookup_order');
    expect(query.name).toBe('SELECT orders');
    expect(request.scope).toBe('app');
    expect(tool.scope).toBe('aitrail');

    // Audit attributes on the exported audit spans.
    const identity = {
      'audit.actor.type': 'user',
      'audit.actor.id': 'user_alice',
      'audit.tenant.id': 'acme',
    };
    expect(chat.attributes).toMatchObject({
      ...identity,
      'audit.action': AI_AUDIT_ACTIONS.CHAT_MESSAGE,
      'audit.outcome': 'success',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.provider.name': 'openai',
      'gen_ai.conversation.id': 'conv_42',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 3,
    });
    expect(approval.attributes).toMatchObject({
      ...identity,
      'audit.action': AI_AUDIT_ACTIONS.APPROVAL_APPROVED,
      'audit.outcome': 'success',
      'audit.approval.id': 'appr_7',
      'audit.approver.type': 'user',
      'audit.approver.id': 'manager_carol',
      'gen_ai.tool.name': 'lookup_order',
    });
    expect(tool.attributes).toMatchObject({
      ...identity,
      'audit.action': AI_AUDIT_ACTIONS.TOOL_CALL,
      'audit.outcome': 'success',
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'lookup_order',
      'gen_ai.tool.call.id': 'call_1',
      'gen_ai.conversation.id': 'conv_42',
    });
    expect(JSON.parse(tool.attributes['gen_ai.tool.call.arguments'] as string)).toEqual({
      orderId: 'ORD-2026-000481',
    });
    // Ordinary spans inside the audit context carry the identity but are not audit records.
    expect(request.attributes).toMatchObject(identity);
    expect(query.attributes).toMatchObject({ ...identity, 'db.system.name': 'postgresql' });
    for (const span of [request, query]) expect(span.attributes['audit.action']).toBeUndefined();
    expect(Object.keys(health.attributes).filter((key) => key.startsWith('audit.'))).toEqual([]);

    for (const span of spans) expect(span.resource['service.name']).toBe(SERVICE);

    // Each audit row is the exported span with the same ids and the same action.
    expect(rows.map((row) => row.action).sort()).toEqual(
      [
        AI_AUDIT_ACTIONS.APPROVAL_APPROVED,
        AI_AUDIT_ACTIONS.CHAT_MESSAGE,
        AI_AUDIT_ACTIONS.TOOL_CALL,
      ].sort(),
    );
    for (const row of rows) {
      const span = spanWithId(spans, row);
      expect(span.attributes['audit.action']).toBe(row.action);
      expect(row).toMatchObject({ actorId: 'user_alice', tenantId: 'acme', serviceName: SERVICE });
    }
    const auditSpans = spans.filter((span) => span.attributes['audit.action'] !== undefined);
    expect(auditSpans.map((span) => span.spanId).sort()).toEqual(
      rows.map((row) => row.spanId).sort(),
    );

    // The final checkpoint reaches the trace backend too: an independent copy of the chain head.
    const checkpoint = spans.find(
      (span) =>
        span.name === 'aitrail.checkpoint' &&
        span.attributes['aitrail.checkpoint.kind'] === 'final',
    );
    const last = rows.reduce((a, b) => (a.chainSeq > b.chainSeq ? a : b));
    expect(checkpoint?.attributes).toMatchObject({
      'aitrail.checkpoint.chain_id': last.chainId,
      'aitrail.checkpoint.seq': last.chainSeq,
      'aitrail.checkpoint.head_hash': last.hash,
      'aitrail.checkpoint.algorithm': 'none',
    });
    expect(checkpoint?.attributes['aitrail.checkpoint.root_hash']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('stores and exports no planted secret or personal data from tool params, chat content, errors or third-party spans, and keeps ordinary values', async () => {
    const apiKey = 'sk-proj-Q2xPz8vR4mT1yW6nK0bH3jF5dS7aL9cE';
    const email = 'jane@example.com';
    const card = '4111 1111 1111 1111';
    const awsKey = 'AKIAIOSFODNN7EXAMPLE';
    const phone = '+44 20 7946 0958';
    const orderId = 'ORD-2026-000481';
    const invoice = 'INV-2026-0042';
    const app = trace.getTracer('app');
    const vendor = trace.getTracer('vendor-sdk');

    const previousResource = process.env.OTEL_RESOURCE_ATTRIBUTES;
    process.env.OTEL_RESOURCE_ATTRIBUTES = `deployment.owner=${email}`;
    let run: Awaited<ReturnType<typeof exportRun>>;
    try {
      run = await exportRun(() =>
        withAuditContext({ tenantId: 'acme', actor: alice }, () =>
          app.startActiveSpan('POST /chat', async (request) => {
            try {
              await traceChat(
                {
                  model: 'gpt-4o-mini',
                  content: `My card is ${card}, call me on ${phone} about ${orderId}`,
                },
                (chat) => chat.setCompletion(`Noted, I will email ${email} about ${invoice}`),
              );
              // A third-party library's own span that declares an audit record.
              const external = vendor.startSpan('vendor.refund', {
                attributes: {
                  'audit.action': 'vendor.refund_requested',
                  'vendor.credentials': `aws ${awsKey}`,
                  'vendor.customer_email': email,
                  'vendor.invoice': invoice,
                },
              });
              external.end();
              await traceToolCall(
                { toolName: 'refund_order', params: { apiKey, email, orderId, card } },
                async () => {
                  const query = app.startSpan('SELECT customers', {
                    attributes: {
                      'db.query.text': `SELECT id FROM customers WHERE email = '${email}'`,
                      'app.order_id': orderId,
                    },
                  });
                  query.end();
                  throw new Error(`payments API rejected key ${apiKey} for ${email}`);
                },
              );
            } catch (error) {
              // An ordinary span recording the raw error: redaction must still apply on export.
              request.recordException(error as Error);
              request.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
            } finally {
              request.end();
            }
          }),
        ),
      );
    } finally {
      if (previousResource === undefined) delete process.env.OTEL_RESOURCE_ATTRIBUTES;
      else process.env.OTEL_RESOURCE_ATTRIBUTES = previousResource;
    }
    const { spans, rows, tableText } = run;

    expect(spans.map((span) => span.name)).toEqual(
      expect.arrayContaining([
        'POST /chat',
        'execute_tool refund_order',
        'SELECT customers',
        'vendor.refund',
      ]),
    );
    expect(rows.map((row) => row.action).sort()).toEqual([
      'ai.chat_message',
      'ai.tool_call',
      'vendor.refund_requested',
    ]);
    // The bytes on the wire as well as what the receiver decoded from them.
    const exported = [
      ...received.httpRequests.map((request) => request.body.toString('utf8')),
      JSON.stringify(received.traceRequests.map((request) => normalizeTrace(request))),
    ].join('\n');
    for (const [where, text] of [
      ['exported spans', exported],
      ['audit_logs', tableText],
    ] as const) {
      for (const secret of [apiKey, 'sk-proj-', email, card, '4111111111111111', awsKey, phone]) {
        expect(text, `${secret} in ${where}`).not.toContain(secret);
      }
      expect(text, `ordinary order id in ${where}`).toContain(orderId);
      expect(text, `ordinary invoice number in ${where}`).toContain(invoice);
    }
    expect(exported).toContain('payments API rejected key');
    expect(tableText).toContain('payments API rejected key');
    const tool = spans.find((span) => span.name === 'execute_tool refund_order') as ExportedSpan;
    expect(tool.attributes['audit.outcome']).toBe('failure');
    expect(JSON.parse(tool.attributes['gen_ai.tool.call.arguments'] as string)).toMatchObject({
      orderId,
    });
  });
});
