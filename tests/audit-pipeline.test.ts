import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { GEN_AI_ATTRS, traceChat, traceToolCall } from '../src/index.js';
import { type AuditPipeline, createAuditPipeline } from '../src/pipeline/audit-pipeline.js';
import { activePipelinePolicy } from '../src/pipeline/pipeline-policy.js';
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

describe('createAuditPipeline', () => {
  it('a hand-built pipeline with a custom policy stores and exports exactly what it says', async () => {
    running = await compose(createAuditPipeline({ redaction: { disable: ['email'] } }));
    await traceToolCall(
      { toolName: 'notify', params: { to: EMAIL, apiKey: KEY }, actor: { type: 'user', id: 'u1' } },
      () => 'sent',
    );
    await running.provider.forceFlush();
    const [row] = await queryAuditLogs(running.db.store, { action: 'ai.tool_call', limit: 10 });
    expect(row?.metadata.toolParams).toEqual({ to: EMAIL, apiKey: '[REDACTED:api_key]' });
    const [span] = running.exporter.getFinishedSpans();
    const exported = String(span?.attributes[GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS]);
    expect(JSON.parse(exported)).toEqual({ to: EMAIL, apiKey: '[REDACTED:api_key]' });
  });

  it("captureContent 'none' puts no content on any span and in no row", async () => {
    running = await compose(createAuditPipeline({ captureContent: 'none' }));
    await traceChat(
      { model: 'gpt-test', content: `hello, I am ${EMAIL}`, actor: { type: 'user', id: 'u1' } },
      (chat) => chat.setCompletion('hi there'),
    );
    await running.provider.forceFlush();
    const [span] = running.exporter.getFinishedSpans();
    expect(span?.attributes[GEN_AI_ATTRS.INPUT_MESSAGES]).toBeUndefined();
    expect(span?.attributes[GEN_AI_ATTRS.OUTPUT_MESSAGES]).toBeUndefined();
    const rows = await queryAuditLogs(running.db.store, { action: 'ai.chat_message', limit: 10 });
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain('hello');
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
