import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuditPipeline } from '../src/pipeline/audit-pipeline.js';
import {
  createRedactor,
  REDACTION_FAILED,
  RedactingSpanExporter,
  type Redactor,
} from '../src/sanitize/index.js';

const OPENAI_KEY = 'sk-proj-FAKEabcdefghijklmnopqrstuvwxyz0123456789';
const CARD = '4111 1111 1111 1111';

interface Harness {
  provider: TracerProvider;
  inner: InMemorySpanExporter;
  /** What reached the inner exporter, once exports under way have run. */
  exported(): Promise<ReadableSpan[]>;
}

const providers: TracerProvider[] = [];

function setUp(redactor?: Redactor, resource?: Resource): Harness {
  const inner = new InMemorySpanExporter();
  const exporter = new RedactingSpanExporter(inner, redactor ? { redactor } : {});
  const provider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    ...(resource ? { resource } : {}),
  });
  providers.push(provider);
  const exported = async () => {
    await provider.forceFlush();
    return inner.getFinishedSpans();
  };
  return { provider, inner, exported };
}

afterEach(async () => {
  await Promise.all(providers.splice(0).map((provider) => provider.shutdown()));
});

/** Starts and ends a span carrying secrets in every place a span can carry them. */
function emitSpanWithSecrets(provider: TracerProvider): ReadableSpan {
  const tracer = provider.getTracer('aitrail-test');
  const linked = tracer.startSpan('linked');
  linked.end();
  const span = tracer.startSpan('execute_tool send_email', {
    kind: SpanKind.INTERNAL,
    attributes: {
      'gen_ai.tool.name': 'send_email',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.tool.call.arguments': JSON.stringify({ to: 'bob@example.com', api_key: 'abc123' }),
      'http.request.header.authorization': 'Bearer abcdef1234567890',
      'user.note': `card ${CARD} please`,
      recipients: ['bob@example.com', 'team'],
    },
    links: [
      {
        context: linked.spanContext(),
        attributes: { 'link.reason': 'reply to alice@example.com' },
      },
    ],
  });
  span.addEvent('tool.input', { prompt: `use key ${OPENAI_KEY}`, attempt: 2 });
  span.recordException(new Error(`upstream rejected key ${OPENAI_KEY}`));
  span.setStatus({ code: SpanStatusCode.ERROR, message: `charge failed for ${CARD}` });
  span.end();
  return span as unknown as ReadableSpan;
}

async function exportedSpan(harness: Harness, name: string): Promise<ReadableSpan> {
  const span = (await harness.exported()).find((candidate) => candidate.name === name);
  if (!span) throw new Error(`no exported span named ${name}`);
  return span;
}

describe('RedactingSpanExporter', () => {
  it('exports redacted span attributes and keeps ordinary ones intact', async () => {
    const harness = setUp();
    emitSpanWithSecrets(harness.provider);

    const span = await exportedSpan(harness, 'execute_tool send_email');

    expect(span.attributes).toEqual({
      'gen_ai.tool.name': 'send_email',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.tool.call.arguments': '{"to":"[REDACTED:email]","api_key":"[REDACTED:api_key]"}',
      'http.request.header.authorization': '[REDACTED:authorization]',
      'user.note': 'card [REDACTED:payment_card] please',
      recipients: ['[REDACTED:email]', 'team'],
    });
  });

  it('redacts event attributes, including recorded exception messages and stack traces', async () => {
    const harness = setUp();
    emitSpanWithSecrets(harness.provider);

    const span = await exportedSpan(harness, 'execute_tool send_email');
    const exception = span.events.find((event) => event.name === 'exception');

    expect(span.events.find((event) => event.name === 'tool.input')?.attributes).toEqual({
      prompt: 'use key [REDACTED:openai_api_key]',
      attempt: 2,
    });
    expect(exception?.attributes?.['exception.message']).toBe(
      'upstream rejected key [REDACTED:openai_api_key]',
    );
    expect(exception?.attributes?.['exception.stacktrace']).toContain('[REDACTED:openai_api_key]');
    expect(JSON.stringify(span.events)).not.toContain(OPENAI_KEY);
  });

  it('redacts link attributes and the status message', async () => {
    const harness = setUp();
    emitSpanWithSecrets(harness.provider);

    const span = await exportedSpan(harness, 'execute_tool send_email');

    expect(span.links[0]?.attributes).toEqual({ 'link.reason': 'reply to [REDACTED:email]' });
    expect(span.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: 'charge failed for [REDACTED:payment_card]',
    });
  });

  it('carries identity, timing, resource and scope over unchanged when they hold nothing to redact', async () => {
    const harness = setUp();
    const original = emitSpanWithSecrets(harness.provider);

    const span = await exportedSpan(harness, 'execute_tool send_email');

    expect(span).not.toBe(original);
    expect(span.spanContext()).toEqual(original.spanContext());
    expect(span.parentSpanContext).toEqual(original.parentSpanContext);
    expect(span.kind).toBe(original.kind);
    expect(span.startTime).toEqual(original.startTime);
    expect(span.endTime).toEqual(original.endTime);
    expect(span.duration).toEqual(original.duration);
    expect(span.ended).toBe(true);
    expect(span.resource.attributes).toEqual(original.resource.attributes);
    expect(span.instrumentationScope).toEqual(original.instrumentationScope);
    expect(span.droppedAttributesCount).toBe(original.droppedAttributesCount);
    expect(span.droppedEventsCount).toBe(original.droppedEventsCount);
    expect(span.droppedLinksCount).toBe(original.droppedLinksCount);
    expect(span.links[0]?.context).toEqual(original.links[0]?.context);
    expect(span.events.map((event) => event.time)).toEqual(
      original.events.map((event) => event.time),
    );
  });

  it('redacts resource attributes once per resource, so spans still group by resource', async () => {
    const resource = resourceFromAttributes({
      'service.name': 'billing',
      'process.command_args': [
        'node',
        'server.js',
        `--openai-key=${OPENAI_KEY}`,
        '--api-token',
        'Xj6Bo8yVTq3OVwHC',
        '--port',
        '8080',
      ],
      'deployment.owner': 'jane@example.com',
    });
    const harness = setUp(undefined, resource);
    emitSpanWithSecrets(harness.provider);
    emitSpanWithSecrets(harness.provider);
    const [first, second] = (await harness.exported()).filter(
      (s) => s.name === 'execute_tool send_email',
    );
    expect(first?.resource).toBe(second?.resource);
    const exported = JSON.stringify(first?.resource.attributes);
    expect(exported).not.toContain(OPENAI_KEY);
    expect(exported).not.toContain('jane@example.com');
    expect(exported).not.toContain('Xj6Bo8yVTq3OVwHC');
    expect(first?.resource.attributes['process.command_args']).toEqual([
      'node',
      'server.js',
      '--openai-key=[REDACTED:openai_api_key]',
      '--api-token',
      '[REDACTED:cli_secret]',
      '--port',
      '8080',
    ]);
    expect(first?.resource.attributes['service.name']).toBe('billing');
    expect(resource.attributes['deployment.owner']).toBe('jane@example.com');
  });

  it("redacts a tracer's name and version, once per scope", async () => {
    const harness = setUp();
    const tracer = harness.provider.getTracer(`vendor ${OPENAI_KEY}`, `1.0 ${CARD}`);
    tracer.startSpan('a').end();
    tracer.startSpan('b').end();
    const [a, b] = await harness.exported();
    expect(a?.instrumentationScope).toMatchObject({
      name: 'vendor [REDACTED:openai_api_key]',
      version: '1.0 [REDACTED:payment_card]',
    });
    expect(a?.instrumentationScope).toBe(b?.instrumentationScope);
  });

  it('never mutates the SDK span objects', () => {
    const harness = setUp();
    const original = emitSpanWithSecrets(harness.provider);

    expect(original.attributes['user.note']).toBe(`card ${CARD} please`);
    expect(original.events[0]?.attributes?.prompt).toBe(`use key ${OPENAI_KEY}`);
    expect(original.links[0]?.attributes?.['link.reason']).toBe('reply to alice@example.com');
    expect(original.status.message).toBe(`charge failed for ${CARD}`);
  });

  it('uses the redactor it is given', async () => {
    const harness = setUp(createRedactor({ modes: { email: 'hash' }, hashKey: 'exporter-test' }));
    harness.provider
      .getTracer('t')
      .startSpan('s', { attributes: { to: 'bob@example.com' } })
      .end();

    expect((await exportedSpan(harness, 's')).attributes.to).toMatch(/^\[email:[0-9a-f]{8}\]$/);
  });

  it('exports a span with every string attribute replaced when redaction throws', async () => {
    const failing: Redactor = {
      stats: { failures: 0 },
      redactText: (text) => text,
      redactValue: (value) => value as never,
      redactAttributes: (): Attributes => {
        throw new Error('redactor bug');
      },
    };
    const harness = setUp(failing);
    const original = emitSpanWithSecrets(harness.provider);

    const span = (await harness.exported()).find(
      (candidate) => candidate.spanContext().spanId === original.spanContext().spanId,
    );
    if (!span) throw new Error('the failing span was not exported');

    expect(span.attributes).toEqual({
      'gen_ai.tool.name': REDACTION_FAILED,
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.tool.call.arguments': REDACTION_FAILED,
      'http.request.header.authorization': REDACTION_FAILED,
      'user.note': REDACTION_FAILED,
      recipients: [REDACTION_FAILED, REDACTION_FAILED],
    });
    expect(JSON.stringify(span.events)).not.toContain(OPENAI_KEY);
    expect(span.status.message).toBe(REDACTION_FAILED);
    expect(span.name).toBe(REDACTION_FAILED);
    expect(failing.stats.failures).toBeGreaterThan(0);
  });

  it('returns from export at once and redacts on a later turn, so a batch never lands on span.end()', async () => {
    const inner = new InMemorySpanExporter();
    const exporter = new RedactingSpanExporter(inner);
    const harness = setUp();
    const span = emitSpanWithSecrets(harness.provider);
    const result = new Promise((resolve) => exporter.export([span], resolve));
    expect(inner.getFinishedSpans()).toEqual([]);
    expect(await result).toEqual({ code: ExportResultCode.SUCCESS });
    expect(JSON.stringify(inner.getFinishedSpans()[0]?.attributes)).not.toContain(CARD);
  });

  it('lets exports under way finish before it shuts the inner exporter down', async () => {
    const exporter = new RedactingSpanExporter(new InMemorySpanExporter());
    const span = emitSpanWithSecrets(setUp().provider);
    const result = new Promise((resolve) => exporter.export([span], resolve));
    await exporter.shutdown();
    expect(await result).toEqual({ code: ExportResultCode.SUCCESS });
  });

  it('passes the inner exporter result back to the caller', async () => {
    const inner = new InMemorySpanExporter();
    const exporter = new RedactingSpanExporter(inner);
    await inner.shutdown();

    const result = await new Promise((resolve) => exporter.export([], resolve));

    expect(result).toMatchObject({ code: ExportResultCode.FAILED });
  });

  it('forwards forceFlush and shutdown to the inner exporter', async () => {
    const inner = new InMemorySpanExporter();
    const exporter = new RedactingSpanExporter(inner);

    await exporter.forceFlush();
    await exporter.shutdown();
    const result = await new Promise((resolve) => exporter.export([], resolve));

    expect(result).toMatchObject({ code: ExportResultCode.FAILED });
  });

  it('refuses a pipeline or a redactor that is not one with a TypeError naming the option', () => {
    const inner = new InMemorySpanExporter();
    expect(() => new RedactingSpanExporter(inner, { pipeline: {} as never })).toThrow(
      /pipeline must come from createAuditPipeline/,
    );
    expect(() => new RedactingSpanExporter(inner, { redactor: null as never })).toThrow(
      /redactor must come from createRedactor/,
    );
  });

  it('refuses both a pipeline and a redactor with a TypeError', () => {
    expect(
      () =>
        new RedactingSpanExporter(new InMemorySpanExporter(), {
          pipeline: createAuditPipeline(),
          redactor: createRedactor(),
        }),
    ).toThrow(TypeError);
  });

  it('rejects unknown options with a TypeError naming them', () => {
    expect(
      () => new RedactingSpanExporter(new InMemorySpanExporter(), { redact: true } as never),
    ).toThrow(/redact/);
  });
});

const EMAIL = 'jane@example.com';
const CONTENT = `write to ${EMAIL} with key ${OPENAI_KEY}`;

/** A span of each AI library aitrail recognises, each carrying a prompt and an answer. */
function emitContentSpans(provider: TracerProvider): void {
  const tracer = provider.getTracer('ai-libraries');
  const messages = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: CONTENT }] }]);
  tracer
    .startSpan('chat gpt-4o', {
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.input.messages': messages,
        'gen_ai.output.messages': messages,
        'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: CONTENT }]),
        'gen_ai.tool.call.arguments': JSON.stringify({ to: EMAIL }),
      },
    })
    .end();
  const old = tracer.startSpan('openai.chat', {
    attributes: { 'gen_ai.prompt.0.content': CONTENT },
  });
  old.addEvent('gen_ai.content.prompt', { 'gen_ai.prompt': CONTENT });
  old.end();
  tracer
    .startSpan('ai.generateText', {
      attributes: { 'ai.prompt': JSON.stringify({ prompt: CONTENT }), 'ai.response.text': CONTENT },
    })
    .end();
  tracer
    .startSpan('ChatCompletion', {
      attributes: {
        'openinference.span.kind': 'LLM',
        'input.value': CONTENT,
        'output.value': CONTENT,
        'llm.input_messages.0.message.content': CONTENT,
        'llm.output_messages.0.message.content': CONTENT,
      },
    })
    .end();
  tracer
    .startSpan('lookup', {
      attributes: {
        'openinference.span.kind': 'TOOL',
        'input.value': JSON.stringify({ to: EMAIL }),
      },
    })
    .end();
}

/** An exporter handed out by a pipeline, as `pipeline.exporter()` does. */
function setUpPipeline(captureContent: 'none' | 'full'): Harness {
  const inner = new InMemorySpanExporter();
  const exporter = createAuditPipeline({ captureContent }).exporter(inner);
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  providers.push(provider);
  const exported = async () => {
    await provider.forceFlush();
    return inner.getFinishedSpans();
  };
  return { provider, inner, exported };
}

describe("RedactingSpanExporter and its pipeline's capture mode", () => {
  it("captureContent 'none': no prompt or answer on any exported span or event, whichever library made it", async () => {
    const harness = setUpPipeline('none');
    emitContentSpans(harness.provider);
    const spans = await harness.exported();
    expect(spans).toHaveLength(5);
    const exported = JSON.stringify(spans.map((s) => [s.attributes, s.events]));
    expect(exported).not.toContain('write to');
    // Tool arguments are not content: redacted, not dropped (OpenInference TOOL input included).
    expect(
      (await exportedSpan(harness, 'chat gpt-4o')).attributes['gen_ai.tool.call.arguments'],
    ).toBe('{"to":"[REDACTED:email]"}');
    expect((await exportedSpan(harness, 'lookup')).attributes['input.value']).toBe(
      '{"to":"[REDACTED:email]"}',
    );
    expect((await exportedSpan(harness, 'chat gpt-4o')).attributes['gen_ai.operation.name']).toBe(
      'chat',
    );
  });

  it("captureContent 'full': prompts and answers keep personal data and lose secrets; other attributes lose both", async () => {
    const harness = setUpPipeline('full');
    emitContentSpans(harness.provider);
    const chat = (await exportedSpan(harness, 'chat gpt-4o')).attributes;
    expect(String(chat['gen_ai.input.messages'])).toContain(EMAIL);
    expect(String(chat['gen_ai.input.messages'])).not.toContain(OPENAI_KEY);
    expect(chat['gen_ai.tool.call.arguments']).toBe('{"to":"[REDACTED:email]"}');
    const openInference = (await exportedSpan(harness, 'ChatCompletion')).attributes;
    expect(openInference['llm.input_messages.0.message.content']).toBe(
      `write to ${EMAIL} with key [REDACTED:openai_api_key]`,
    );
    expect(
      JSON.stringify((await harness.exported()).map((s) => [s.attributes, s.events])),
    ).not.toContain(OPENAI_KEY);
  });
});
