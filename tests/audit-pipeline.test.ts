import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { GEN_AI_ATTRS, recordAuditEvent, traceChat, traceToolCall } from '../src/index.js';
import { type AuditPipeline, createAuditPipeline } from '../src/pipeline/audit-pipeline.js';
import { activePipelinePolicy } from '../src/pipeline/pipeline-policy.js';
import { RedactingSpanExporter } from '../src/sanitize/index.js';
import { queryAuditLogs } from '../src/store/queries.js';
import { openTestStore, type TestStore } from './support/stores.js';

const EMAIL = 'alice.smith@example.com';
const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD';

interface Composed {
  db: TestStore;
  exporter: InMemorySpanExporter;
  provider: TracerProvider;
  unregister: () => void;
}

/** An app's own SDK setup, assembled from one pipeline's parts, on real Postgres. */
async function compose(pipeline: AuditPipeline): Promise<Composed> {
  const db = await openTestStore('postgres');
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    sampler: pipeline.sampler(),
    spanProcessors: [
      pipeline.spanProcessor({ store: db.store, writerOptions: { flushIntervalMs: 10 } }),
      new SimpleSpanProcessor({ exporter: pipeline.exporter(exporter) }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return { db, exporter, provider, unregister: pipeline.register() };
}

let running: Composed | undefined;

afterEach(async () => {
  if (running === undefined) return;
  running.unregister();
  await running.provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
  await running.db.close();
  running = undefined;
});

const TICKET = 'TCK-204811';
const actor = { type: 'user', id: 'u1' } as const;

/** Everything a row or an exported span said, as one text. */
function everything(rows: unknown[], exporter: InMemorySpanExporter): string {
  const spans = exporter
    .getFinishedSpans()
    .map((span) => [span.name, span.attributes, span.events, span.links, span.status]);
  return JSON.stringify([rows, spans]);
}

describe('createAuditPipeline', () => {
  it('a hand-built pipeline with a custom policy stores and exports exactly what it says', async () => {
    running = await compose(
      createAuditPipeline({
        redaction: {
          disable: ['email'],
          keys: ['customer_ref'],
          detectors: [{ name: 'ticket', pattern: /TCK-\d{6}/g }],
        },
        captureContent: 'none',
      }),
    );
    await traceToolCall(
      {
        toolName: 'notify',
        params: { to: EMAIL, apiKey: KEY, customer_ref: 'C-77', note: `re ${TICKET}` },
        actor,
      },
      () => 'sent',
    );
    recordAuditEvent({
      action: 'support.ticket_viewed',
      reason: `${EMAIL} asked about ${TICKET}`,
      actor,
    });
    trace
      .getTracer('vendor')
      .startSpan('vendor.call', {
        attributes: {
          'audit.action': 'vendor.called',
          'audit.actor.id': actor.id,
          'vendor.to': EMAIL,
          'vendor.ticket': `see ${TICKET}`,
          'vendor.customer_ref': 'C-77',
          'vendor.note': `key ${KEY}`,
        },
      })
      .end();
    await running.provider.forceFlush();

    const params = {
      to: EMAIL,
      apiKey: '[REDACTED:api_key]',
      customer_ref: '[REDACTED:customer_ref]',
      note: 're [REDACTED:ticket]',
    };
    const rows = await queryAuditLogs(running.db.store, { limit: 10 });
    const row = (action: string) => rows.find((r) => r.action === action);
    expect(row('ai.tool_call')?.metadata.toolParams).toEqual(params);
    expect(row('support.ticket_viewed')?.metadata.reason).toBe(
      `${EMAIL} asked about [REDACTED:ticket]`,
    );
    const spans = running.exporter.getFinishedSpans();
    const span = (name: string) => spans.find((s) => s.name === name)?.attributes ?? {};
    expect(
      JSON.parse(String(span('execute_tool notify')[GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS])),
    ).toEqual(params);
    expect(span('support.ticket_viewed')['audit.reason']).toBe(
      `${EMAIL} asked about [REDACTED:ticket]`,
    );
    expect(span('vendor.call')).toMatchObject({
      'vendor.to': EMAIL,
      'vendor.ticket': 'see [REDACTED:ticket]',
      'vendor.customer_ref': '[REDACTED:customer_ref]',
      'vendor.note': 'key [REDACTED:openai_api_key]',
    });
    const all = everything(rows, running.exporter);
    for (const hidden of [KEY, TICKET, 'C-77']) expect(all).not.toContain(hidden);
  });

  it("captureContent 'none' puts no content on any span, ours or a recognised library's, and in no row", async () => {
    running = await compose(createAuditPipeline({ captureContent: 'none' }));
    const prompt = `hello, I am ${EMAIL}`;
    await traceChat({ model: 'gpt-test', content: prompt, actor }, (chat) =>
      chat.setCompletion('hi there, friend'),
    );
    const library = trace.getTracer('ai-library');
    const messages = (text: string) =>
      JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: text }] }]);
    library
      .startSpan('chat gpt-4o', {
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: prompt }]),
          'gen_ai.input.messages': messages(prompt),
          'gen_ai.output.messages': messages('hi there, friend'),
        },
      })
      .end();
    library
      .startSpan('ai.generateText', {
        attributes: {
          'ai.model.id': 'gpt-4o',
          'ai.prompt': JSON.stringify({ prompt }),
          'ai.response.text': 'hi there, friend',
        },
      })
      .end();
    library
      .startSpan('ChatCompletion', {
        attributes: {
          'openinference.span.kind': 'LLM',
          'llm.model_name': 'gpt-4o',
          'input.value': prompt,
          'output.value': 'hi there, friend',
          'llm.input_messages.0.message.role': 'user',
          'llm.input_messages.0.message.content': prompt,
          'llm.output_messages.0.message.content': 'hi there, friend',
        },
      })
      .end();
    await running.provider.forceFlush();

    const rows = await queryAuditLogs(running.db.store, { action: 'ai.chat_message', limit: 10 });
    expect(rows.map((r) => r.metadata.source).sort()).toEqual(
      ['aitrail', 'gen-ai', 'openinference', 'vercel-ai'].sort(),
    );
    for (const row of rows) {
      expect(row.metadata.content).toBeUndefined();
      expect(row.metadata.completion).toBeUndefined();
    }
    expect(running.exporter.getFinishedSpans()).toHaveLength(4);
    const all = everything(rows, running.exporter);
    expect(all).not.toContain('hello');
    expect(all).not.toContain('hi there');
  });

  it('an exporter made without options follows the pipeline registered when it was made', async () => {
    const pipeline = createAuditPipeline({
      redaction: { disable: ['email'] },
      captureContent: 'none',
    });
    const restore = pipeline.register();
    const inner = new InMemorySpanExporter();
    const provider = new TracerProvider({
      spanProcessors: [new SimpleSpanProcessor({ exporter: new RedactingSpanExporter(inner) })],
    });
    restore();
    provider
      .getTracer('app')
      .startSpan('send', {
        attributes: { 'app.to': EMAIL, 'app.key': KEY, 'gen_ai.input.messages': '["hello"]' },
      })
      .end();
    const [span] = inner.getFinishedSpans();
    expect(span?.attributes).toEqual({ 'app.to': EMAIL, 'app.key': '[REDACTED:openai_api_key]' });
    await provider.shutdown();
  });

  it('register() makes the pipeline active and its return value restores the previous one', () => {
    const before = activePipelinePolicy();
    const pipeline = createAuditPipeline({ captureContent: 'full' });
    const unregister = pipeline.register();
    expect(activePipelinePolicy().captureContent).toBe('full');
    expect(activePipelinePolicy().redactor).toBe(pipeline.redactor);
    unregister();
    expect(activePipelinePolicy()).toBe(before);
  });

  it('refuses unknown options with a TypeError naming them', () => {
    expect(() => createAuditPipeline({ capture: 'none' } as never)).toThrow(
      /createAuditPipeline: unknown option capture/,
    );
    expect(() => createAuditPipeline({ redaction: { disable: ['nope'] } })).toThrow(TypeError);
  });
});

describe('recordAuditEvent action', () => {
  it('is refused with a TypeError when it holds a secret', async () => {
    const { recordAuditEvent } = await import('../src/index.js');
    expect(() =>
      recordAuditEvent({ action: 'billing.npm_abcdefghijklmnopqrstuvwxyz0123456789' }),
    ).toThrow(/recordAuditEvent: action must be a name, not data/);
  });
});
