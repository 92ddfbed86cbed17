import { createRequire } from 'node:module';
import { OpenAIInstrumentation } from '@arizeai/openinference-instrumentation-openai';
import { trace } from '@opentelemetry/api';
import { TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import type OpenAIClient from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryAuditLogs } from '../src/entries/store.js';
import { AI_AUDIT_ACTIONS, traceChat, withAuditContext } from '../src/index.js';
import { type FakeOpenAI, startFakeOpenAI } from './support/fake-openai.js';
import { startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { openTestStore, type TestStore } from './support/stores.js';

const openaiModule = createRequire(import.meta.url)('openai') as { OpenAI: typeof OpenAIClient };
// OpenInference's documented manual path: patches the module object, no loader hooks.
const instrumentation = new OpenAIInstrumentation();
instrumentation.manuallyInstrument(openaiModule as never);

const alice = { type: 'user', id: 'user_alice' } as const;

/** A span shaped as OpenInference makes them: started bare, every attribute set afterwards. */
function openInferenceSpan(name: string, attributes: Record<string, string>): string {
  const span = trace.getTracer('openinference-emulation').startSpan(name);
  span.setAttributes(attributes);
  span.end();
  return span.spanContext().traceId;
}

describe('OpenInference spans', () => {
  let db: TestStore;
  let pipeline: TestPipeline;
  let fake: FakeOpenAI;
  let client: OpenAIClient;

  beforeAll(async () => {
    db = await openTestStore('postgres');
    pipeline = startTestPipeline(db.store);
    instrumentation.setTracerProvider(pipeline.provider);
    fake = await startFakeOpenAI();
    client = new openaiModule.OpenAI({ baseURL: fake.baseURL, apiKey: 'test-key', maxRetries: 0 });
  });

  afterAll(async () => {
    await fake?.close();
    await pipeline?.close();
    await db?.close();
  });

  async function ask(content: string): Promise<string> {
    return trace.getTracer('app').startActiveSpan('POST /support', async (span) => {
      try {
        await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content }],
        });
        return span.spanContext().traceId;
      } finally {
        span.end();
      }
    });
  }

  it('records an LLM span of the OpenInference OpenAI instrumentation as a chat message', async () => {
    const traceId = await withAuditContext({ tenantId: 'acme', actor: alice }, () =>
      ask('Where is my order? Mail bob@example.com'),
    );
    await pipeline.flush();
    const rows = await queryAuditLogs(db.store, { traceId });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: AI_AUDIT_ACTIONS.CHAT_MESSAGE,
      actorId: 'user_alice',
      tenantId: 'acme',
    });
    expect(rows[0]?.metadata).toMatchObject({
      source: 'openinference',
      model: 'gpt-4o-mini-2024-07-18',
      provider: 'openai',
      inputTokens: 12,
      outputTokens: 5,
    });
    const content = JSON.stringify(rows[0]?.metadata.content);
    expect(content).toContain('Where is my order?');
    expect(content).not.toContain('bob@example.com');
    expect(JSON.stringify(rows[0]?.metadata.completion)).toContain('Your order ships tomorrow.');
  });

  it('keeps the helper-made row when traceChat wraps the instrumented call', async () => {
    const traceId = await traceChat({ model: 'gpt-4o-mini', actor: alice }, async (chat) => {
      await ask('Where is my order?');
      return chat.span.spanContext().traceId;
    });
    await pipeline.flush();
    const rows = await queryAuditLogs(db.store, { traceId });
    expect(rows.map((r) => [r.action, r.metadata.source])).toEqual([
      [AI_AUDIT_ACTIONS.CHAT_MESSAGE, 'aitrail'],
    ]);
  });

  it('records TOOL spans as tool calls with redacted input, and handoff tools as handoffs', async () => {
    const toolTrace = withAuditContext({ actor: alice }, () =>
      openInferenceSpan('lookup_invoice', {
        'openinference.span.kind': 'TOOL',
        'tool.name': 'lookup_invoice',
        'input.value': JSON.stringify({ invoiceId: 'INV-1', password: 'hunter2' }),
        'output.value': '{"amount":42}',
      }),
    );
    const handoffTrace = withAuditContext({ actor: alice }, () =>
      openInferenceSpan('handoff to Billing agent', {
        'openinference.span.kind': 'TOOL',
        'tool.name': 'handoff_to_Billing agent',
        'input.value': JSON.stringify({ from_agent: 'Triage agent' }),
        'output.value': JSON.stringify({ to_agent: 'Billing agent' }),
      }),
    );
    await pipeline.flush();
    const [toolRow] = await queryAuditLogs(db.store, { traceId: toolTrace });
    expect(toolRow).toMatchObject({
      action: AI_AUDIT_ACTIONS.TOOL_CALL,
      toolName: 'lookup_invoice',
    });
    expect(toolRow?.metadata.toolParams).toMatchObject({ invoiceId: 'INV-1' });
    expect(JSON.stringify(toolRow)).not.toContain('hunter2');
    const [handoffRow] = await queryAuditLogs(db.store, { traceId: handoffTrace });
    expect(handoffRow).toMatchObject({
      action: AI_AUDIT_ACTIONS.AGENT_HANDOFF,
      agentName: 'Triage agent',
    });
    expect(handoffRow?.metadata).toMatchObject({
      handoffFrom: 'Triage agent',
      handoffTo: 'Billing agent',
    });
  });

  it('does not record AGENT and CHAIN spans: they envelope the recorded LLM and TOOL spans', async () => {
    const agentTrace = openInferenceSpan('Triage agent', {
      'openinference.span.kind': 'AGENT',
      'graph.node.id': 'Triage agent',
    });
    const chainTrace = openInferenceSpan('turn', { 'openinference.span.kind': 'CHAIN' });
    await pipeline.flush();
    expect(await queryAuditLogs(db.store, { traceId: agentTrace })).toEqual([]);
    expect(await queryAuditLogs(db.store, { traceId: chainTrace })).toEqual([]);
  });
});

describe('OpenInference spans under a 0% head sampler (documented limit)', () => {
  let db: TestStore;
  let pipeline: TestPipeline;
  let fake: FakeOpenAI;

  beforeAll(async () => {
    db = await openTestStore('postgres');
    pipeline = startTestPipeline(db.store, { sampler: new TraceIdRatioBasedSampler(0) });
    instrumentation.setTracerProvider(pipeline.provider);
    fake = await startFakeOpenAI();
  });

  afterAll(async () => {
    await fake?.close();
    await pipeline?.close();
    await db?.close();
  });

  it('are not recorded: their kind is set after start, so the sampler cannot keep them', async () => {
    const client = new openaiModule.OpenAI({ baseURL: fake.baseURL, apiKey: 'k', maxRetries: 0 });
    await withAuditContext({ tenantId: 'acme', actor: alice }, () =>
      client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    );
    await pipeline.flush();
    expect(await queryAuditLogs(db.store, { tenantId: 'acme' })).toEqual([]);
  });
});
