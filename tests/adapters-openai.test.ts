import { createRequire } from 'node:module';
import { trace } from '@opentelemetry/api';
import { OpenAIInstrumentation } from '@opentelemetry/instrumentation-openai';
import { TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import type OpenAIClient from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryAuditLogs } from '../src/entries/store.js';
import { AI_AUDIT_ACTIONS, traceChat, withAuditContext } from '../src/index.js';
import { type FakeOpenAI, startFakeOpenAI } from './support/fake-openai.js';
import { startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { BACKENDS, openTestStore, type TestStore } from './support/stores.js';

// The instrumentation patches `openai` through require hooks: it must exist before the first
// require, and `openai` must be loaded with require (vitest bypasses the ESM loader hook).
const instrumentation = new OpenAIInstrumentation();
const { OpenAI } = createRequire(import.meta.url)('openai') as { OpenAI: typeof OpenAIClient };

const alice = { type: 'user', id: 'user_alice' } as const;

describe.each(BACKENDS)(
  'openai client with @opentelemetry/instrumentation-openai on %s',
  (backend) => {
    let db: TestStore;
    let pipeline: TestPipeline;
    let fake: FakeOpenAI;
    let client: OpenAIClient;

    beforeAll(async () => {
      db = await openTestStore(backend);
      pipeline = startTestPipeline(db.store);
      instrumentation.setTracerProvider(pipeline.provider);
      fake = await startFakeOpenAI();
      client = new OpenAI({ baseURL: fake.baseURL, apiKey: 'test-key', maxRetries: 0 });
    });

    afterAll(async () => {
      await fake?.close();
      await pipeline?.close();
      await db?.close();
    });

    async function ask(): Promise<string> {
      return trace.getTracer('app').startActiveSpan('POST /support', async (span) => {
        try {
          await client.chat.completions.create({
            model: 'gpt-4o-mini',
            messages: [{ role: 'user', content: 'Where is my order?' }],
          });
          return span.spanContext().traceId;
        } finally {
          span.end();
        }
      });
    }

    it('records a chat completion with model, provider, token usage, actor and tenant', async () => {
      const traceId = await withAuditContext({ tenantId: 'acme', actor: alice }, ask);
      await pipeline.flush();
      const rows = await queryAuditLogs(db.store, { traceId });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        action: AI_AUDIT_ACTIONS.CHAT_MESSAGE,
        outcome: 'success',
        actorType: 'user',
        actorId: 'user_alice',
        tenantId: 'acme',
      });
      expect(rows[0]?.metadata).toMatchObject({
        source: 'gen-ai',
        instrumentationScope: '@opentelemetry/instrumentation-openai',
        model: 'gpt-4o-mini',
        responseModel: 'gpt-4o-mini-2024-07-18',
        provider: 'openai',
        inputTokens: 12,
        outputTokens: 5,
        spanName: 'chat gpt-4o-mini',
      });
    });

    it('keeps the helper-made row when traceChat wraps the instrumented call', async () => {
      const traceId = await traceChat(
        { model: 'gpt-4o-mini', provider: 'openai', actor: alice },
        async (chat) => {
          await ask();
          return chat.span.spanContext().traceId;
        },
      );
      await pipeline.flush();
      const rows = await queryAuditLogs(db.store, { traceId });
      expect(rows.map((r) => [r.action, r.metadata.source])).toEqual([
        [AI_AUDIT_ACTIONS.CHAT_MESSAGE, 'aitrail'],
      ]);
    });
  },
);

describe('openai chat spans under a 0% head sampler', () => {
  let db: TestStore;
  let pipeline: TestPipeline;
  let fake: FakeOpenAI;

  beforeAll(async () => {
    db = await openTestStore('pglite');
    pipeline = startTestPipeline(db.store, { sampler: new TraceIdRatioBasedSampler(0) });
    instrumentation.setTracerProvider(pipeline.provider);
    fake = await startFakeOpenAI();
  });

  afterAll(async () => {
    await fake?.close();
    await pipeline?.close();
    await db?.close();
  });

  it('still records the chat completion: the operation name is visible at span start', async () => {
    const client = new OpenAI({ baseURL: fake.baseURL, apiKey: 'test-key', maxRetries: 0 });
    await withAuditContext({ tenantId: 'acme', actor: alice }, () =>
      client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Where is my order?' }],
      }),
    );
    await pipeline.flush();
    const rows = await queryAuditLogs(db.store, { action: AI_AUDIT_ACTIONS.CHAT_MESSAGE });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actorId: 'user_alice', tenantId: 'acme' });
    expect(rows[0]?.metadata).toMatchObject({ inputTokens: 12, outputTokens: 5 });
  });
});
