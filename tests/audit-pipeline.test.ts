import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GEN_AI_ATTRS,
  recordAuditEvent,
  traceChat,
  traceToolCall,
  withAuditContext,
} from '../src/index.js';
import {
  type AuditPipeline,
  createAuditPipeline,
  type PipelineSpanProcessorOptions,
} from '../src/pipeline/audit-pipeline.js';
import { activePipelinePolicy } from '../src/pipeline/pipeline-policy.js';
import { AuditSpanProcessor } from '../src/processor/audit-span-processor.js';
import { RedactingSpanExporter } from '../src/sanitize/redacting-span-exporter.js';
import { queryAuditLogs } from '../src/store/queries.js';
import { openTestStore, type TestStore } from './support/stores.js';

const EMAIL = 'alice.smith@example.com';
const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD';

interface Composed {
  db: TestStore;
  /** Behind the pipeline's `exporter()`. */
  exporter: InMemorySpanExporter;
  /** Not wrapped by aitrail: sees the SDK's spans as they are. */
  unwrapped: InMemorySpanExporter;
  provider: TracerProvider;
  unregister: () => void;
}

/** An app's own SDK setup, assembled from one pipeline's parts, on real Postgres. */
async function compose(
  pipeline: AuditPipeline,
  processorOptions: Partial<PipelineSpanProcessorOptions> = {},
): Promise<Composed> {
  const db = await openTestStore('postgres');
  const exporter = new InMemorySpanExporter();
  const unwrapped = new InMemorySpanExporter();
  const provider = new TracerProvider({
    sampler: pipeline.sampler(),
    spanProcessors: [
      pipeline.spanProcessor({
        store: db.store,
        writerOptions: { flushIntervalMs: 10 },
        ...processorOptions,
      }),
      new SimpleSpanProcessor({ exporter: pipeline.exporter(exporter) }),
      new SimpleSpanProcessor({ exporter: unwrapped }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return { db, exporter, unwrapped, provider, unregister: pipeline.register() };
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
    await provider.forceFlush();
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

/** The exported span named `name`, from `exporter`. */
function exportedSpan(exporter: InMemorySpanExporter, name: string) {
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  if (span === undefined) throw new Error(`no exported span named ${name}`);
  return span;
}

describe('values helpers capture', () => {
  const alice = { type: 'user', id: 'u1' } as const;

  it('reach the row and the pipeline exporter sanitized, and never ride on the span itself', async () => {
    running = await compose(createAuditPipeline());
    await traceToolCall(
      { toolName: 'notify', params: { to: EMAIL, apiKey: KEY }, actor: alice },
      () => ({ sentTo: EMAIL }),
    );
    await traceChat({ model: 'gpt-test', content: `I am ${EMAIL}`, actor: alice }, (chat) =>
      chat.setCompletion(`hello ${EMAIL}`),
    );
    await running.provider.forceFlush();
    const [tool] = await queryAuditLogs(running.db.store, { action: 'ai.tool_call' });
    expect(tool?.metadata.toolParams).toEqual({
      to: '[REDACTED:email]',
      apiKey: '[REDACTED:api_key]',
    });
    expect(tool?.metadata.toolResult).toEqual({ sentTo: '[REDACTED:email]' });
    const [chat] = await queryAuditLogs(running.db.store, { action: 'ai.chat_message' });
    expect(JSON.stringify(chat?.metadata.content)).toContain('[REDACTED:email]');
    expect(JSON.stringify(chat?.metadata.completion)).toContain('hello [REDACTED:email]');

    const toolCopy = exportedSpan(running.exporter, 'execute_tool notify').attributes;
    expect(JSON.parse(String(toolCopy[GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS]))).toEqual(
      tool?.metadata.toolParams,
    );
    expect(JSON.parse(String(toolCopy[GEN_AI_ATTRS.TOOL_CALL_RESULT]))).toEqual({
      sentTo: '[REDACTED:email]',
    });
    const chatCopy = exportedSpan(running.exporter, 'chat gpt-test').attributes;
    expect(JSON.parse(String(chatCopy[GEN_AI_ATTRS.INPUT_MESSAGES]))).toEqual(
      chat?.metadata.content,
    );
    expect(JSON.parse(String(chatCopy[GEN_AI_ATTRS.OUTPUT_MESSAGES]))).toEqual(
      chat?.metadata.completion,
    );

    // An exporter aitrail does not wrap (and any other processor) sees none of them: fail closed.
    for (const name of ['execute_tool notify', 'chat gpt-test']) {
      const raw = exportedSpan(running.unwrapped, name).attributes;
      for (const key of [
        GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS,
        GEN_AI_ATTRS.TOOL_CALL_RESULT,
        GEN_AI_ATTRS.INPUT_MESSAGES,
        GEN_AI_ATTRS.OUTPUT_MESSAGES,
        'audit.metadata',
      ]) {
        expect(raw[key], `${key} on ${name}`).toBeUndefined();
      }
      expect(raw['audit.actor.id']).toBe('u1');
    }
  });

  it('are recorded as they were at the call, whatever the tool does to them afterwards', async () => {
    running = await compose(createAuditPipeline());
    const params: Record<string, unknown> = { orderId: 'ORD-1', items: [{ sku: 'A-1' }] };
    const result = { status: 'queued' };
    await traceToolCall({ toolName: 'refund', params, actor: alice }, () => {
      params.orderId = 'ORD-CHANGED';
      (params.items as Array<Record<string, string>>)[0] = { sku: KEY };
      return result;
    });
    result.status = `changed ${KEY}`;
    await running.provider.forceFlush();
    const [row] = await queryAuditLogs(running.db.store, { action: 'ai.tool_call' });
    expect(row?.metadata.toolParams).toEqual({ orderId: 'ORD-1', items: [{ sku: 'A-1' }] });
    expect(row?.metadata.toolResult).toEqual({ status: 'queued' });
    const copy = exportedSpan(running.exporter, 'execute_tool refund').attributes;
    expect(JSON.parse(String(copy[GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS]))).toEqual(
      row?.metadata.toolParams,
    );
  });

  it('that are not plain data (a Map, a class instance, a cycle) are recorded as the redactor reads them', async () => {
    const pipeline = createAuditPipeline();
    running = await compose(pipeline);
    class Order {
      constructor(readonly id: string) {}
      get owner() {
        return EMAIL;
      }
    }
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const params = { byKey: new Map([['k', EMAIL]]), order: new Order('ORD-7'), cyclic };
    const expected = pipeline.redactor.redactValue(params);
    await traceToolCall({ toolName: 'odd', params, actor: alice }, () => undefined);
    await running.provider.forceFlush();
    const [row] = await queryAuditLogs(running.db.store, { action: 'ai.tool_call' });
    expect(row?.metadata.toolParams).toEqual(expected);
    expect(JSON.stringify(row?.metadata.toolParams)).not.toContain(EMAIL);
  });

  it('reach the row and the exporter of a pipeline that is not registered, through its policy', async () => {
    running = await compose(createAuditPipeline({ redaction: { keys: ['orderId'] } }));
    running.unregister();
    await traceToolCall(
      { toolName: 'lookup', params: { orderId: 'ORD-3', to: EMAIL }, actor: alice },
      () => 'ok',
    );
    await running.provider.forceFlush();
    const [row] = await queryAuditLogs(running.db.store, { action: 'ai.tool_call' });
    const expected = { orderId: '[REDACTED:orderId]', to: '[REDACTED:email]' };
    expect(row?.metadata.toolParams).toEqual(expected);
    const copy = exportedSpan(running.exporter, 'execute_tool lookup').attributes;
    expect(JSON.parse(String(copy[GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS]))).toEqual(expected);
  });

  it("are read through a processor's own redactor when it has one", async () => {
    const db = await openTestStore('postgres');
    const exporter = new InMemorySpanExporter();
    const strict = createAuditPipeline({ redaction: { keys: ['orderId'] } });
    const provider = new TracerProvider({
      spanProcessors: [
        new AuditSpanProcessor({
          store: db.store,
          redactor: strict.redactor,
          writerOptions: { flushIntervalMs: 10 },
        }),
        new SimpleSpanProcessor({ exporter: new RedactingSpanExporter(exporter) }),
      ],
    });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    running = { db, exporter, unwrapped: exporter, provider, unregister: () => {} };
    await traceToolCall(
      { toolName: 'lookup', params: { orderId: 'ORD-3', to: EMAIL }, actor: alice },
      () => 'ok',
    );
    await provider.forceFlush();
    const [row] = await queryAuditLogs(db.store, { action: 'ai.tool_call' });
    expect(row?.metadata.toolParams).toEqual({
      orderId: '[REDACTED:orderId]',
      to: '[REDACTED:email]',
    });
    const copy = exportedSpan(exporter, 'execute_tool lookup').attributes;
    expect(JSON.parse(String(copy[GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS]))).toEqual({
      orderId: 'ORD-3',
      to: '[REDACTED:email]',
    });
  });
});

describe("stampIdentity: 'deferred'", () => {
  const bob = { type: 'user', id: 'user_bob' } as const;
  const identity = {
    'audit.actor.type': 'user',
    'audit.actor.id': 'user_bob',
    'audit.subject.id': 'user_bob',
    'audit.tenant.id': 'globex',
    'gen_ai.conversation.id': 'conv_9',
  };

  it("writes the identity on the pipeline exporter's copies of third-party spans, not on the spans", async () => {
    running = await compose(createAuditPipeline(), { stampIdentity: 'deferred' });
    const thirdParty = trace.getTracer('some-http-client');
    // Until a span has ended, the processor cannot tell the SDK calls onEnding, and stamps.
    thirdParty.startSpan('warm-up').end();
    await withAuditContext(
      { tenantId: 'globex', actor: bob, conversationId: 'conv_9' },
      async () => {
        for (let i = 0; i < 3; i++) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          thirdParty.startSpan(`GET /items/${i}`).end();
        }
      },
    );
    await running.provider.forceFlush();
    const copies = running.exporter
      .getFinishedSpans()
      .filter((s) => s.name.startsWith('GET /items/'));
    expect(copies).toHaveLength(3);
    for (const copy of copies) expect(copy.attributes).toMatchObject(identity);
    for (const span of running.unwrapped.getFinishedSpans())
      expect(span.attributes['audit.actor.id']).toBeUndefined();
  });

  it('writes the identity of the context a span started in, wherever it ends', async () => {
    running = await compose(createAuditPipeline(), { stampIdentity: 'deferred' });
    const thirdParty = trace.getTracer('some-queue-client');
    thirdParty.startSpan('warm-up').end();
    const started = withAuditContext(
      { tenantId: 'globex', actor: bob, conversationId: 'conv_9' },
      () => thirdParty.startSpan('publish job'),
    );
    withAuditContext({ tenantId: 'initech', actor: { type: 'user', id: 'user_eve' } }, () =>
      started.end(),
    );
    await running.provider.forceFlush();
    expect(exportedSpan(running.exporter, 'publish job').attributes).toMatchObject(identity);
  });

  it('writes it onto a span that becomes an audit record as it ends, for its row and every exporter', async () => {
    running = await compose(createAuditPipeline(), { stampIdentity: 'deferred' });
    const thirdParty = trace.getTracer('vendor-sdk');
    const traceIds = withAuditContext(
      { tenantId: 'globex', actor: bob, conversationId: 'conv_9' },
      () =>
        // The first span lets the processor see the SDK calls onEnding; both are records.
        [1, 2].map((i) => {
          const span = thirdParty.startSpan(`refund ${i}`);
          span.setAttribute('audit.action', 'vendor.refund_requested');
          span.end();
          return span.spanContext().traceId;
        }),
    );
    await running.provider.forceFlush();
    for (const traceId of traceIds) {
      const [row] = await queryAuditLogs(running.db.store, { traceId });
      expect(row).toMatchObject({
        actorId: 'user_bob',
        actorType: 'user',
        subjectId: 'user_bob',
        tenantId: 'globex',
        conversationId: 'conv_9',
      });
    }
    for (const span of running.unwrapped.getFinishedSpans())
      expect(span.attributes).toMatchObject(identity);
  });

  it('stamps a span that is a record from its start at once, before other attributes can fill it', async () => {
    const db = await openTestStore('postgres');
    const pipeline = createAuditPipeline();
    const provider = new TracerProvider({
      spanLimits: { attributeCountLimit: 8 },
      spanProcessors: [
        pipeline.spanProcessor({
          store: db.store,
          writerOptions: { flushIntervalMs: 10 },
          stampIdentity: 'deferred',
        }),
      ],
    });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    running = {
      db,
      exporter: new InMemorySpanExporter(),
      unwrapped: new InMemorySpanExporter(),
      provider,
      unregister: pipeline.register(),
    };
    const tracer = trace.getTracer('vendor-sdk');
    tracer.startSpan('warm-up').end();
    const traceId = withAuditContext({ tenantId: 'globex', actor: bob }, () => {
      const span = tracer.startSpan('refund', { attributes: { 'audit.action': 'vendor.refund' } });
      for (let i = 0; i < 10; i++) span.setAttribute(`vendor.detail.${i}`, i);
      span.end();
      return span.spanContext().traceId;
    });
    await provider.forceFlush();
    const [row] = await queryAuditLogs(db.store, { traceId });
    expect(row).toMatchObject({ actorId: 'user_bob', tenantId: 'globex' });
  });

  it('refuses an unknown value with a TypeError naming the option', () => {
    expect(
      () =>
        new AuditSpanProcessor({
          store: {} as never,
          stampIdentity: 'later' as never,
        }),
    ).toThrow(/stampIdentity must be 'at-start' or 'deferred'/);
  });
});

describe("a pipeline's processor, without stampIdentity", () => {
  const bob = { type: 'user', id: 'user_bob' } as const;
  const identity = {
    'audit.actor.type': 'user',
    'audit.actor.id': 'user_bob',
    'audit.subject.id': 'user_bob',
    'audit.tenant.id': 'globex',
  };

  /** Third-party spans made inside an audit context, after one warm-up span outside it. */
  async function thirdPartySpans(): Promise<void> {
    const tracer = trace.getTracer('some-http-client');
    // Until a span has ended, the processor cannot tell the SDK calls onEnding, and stamps.
    tracer.startSpan('warm-up').end();
    await withAuditContext({ tenantId: 'globex', actor: bob }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      tracer.startSpan('GET /items/1').end();
    });
  }

  it("leaves the identity to the pipeline's exporter once it has one: the copy has it, the span does not", async () => {
    running = await compose(createAuditPipeline());
    await thirdPartySpans();
    await running.provider.forceFlush();
    expect(exportedSpan(running.exporter, 'GET /items/1').attributes).toMatchObject(identity);
    expect(exportedSpan(running.unwrapped, 'GET /items/1').attributes).not.toHaveProperty(
      'audit.actor.id',
    );
  });

  it('stamps every span as it starts while the pipeline has handed out no exporter, so other processors see it', async () => {
    const db = await openTestStore('postgres');
    const pipeline = createAuditPipeline();
    const other = new InMemorySpanExporter();
    const provider = new TracerProvider({
      sampler: pipeline.sampler(),
      spanProcessors: [
        pipeline.spanProcessor({ store: db.store, writerOptions: { flushIntervalMs: 10 } }),
        new SimpleSpanProcessor({ exporter: other }),
      ],
    });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    running = { db, exporter: other, unwrapped: other, provider, unregister: pipeline.register() };
    await thirdPartySpans();
    await provider.forceFlush();
    expect(exportedSpan(other, 'GET /items/1').attributes).toMatchObject(identity);
  });

  it("stamps every span as it starts when asked to, the pipeline's exporter notwithstanding", async () => {
    running = await compose(createAuditPipeline(), { stampIdentity: 'at-start' });
    await thirdPartySpans();
    await running.provider.forceFlush();
    expect(exportedSpan(running.unwrapped, 'GET /items/1').attributes).toMatchObject(identity);
    expect(exportedSpan(running.exporter, 'GET /items/1').attributes).toMatchObject(identity);
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
