import { trace } from '@opentelemetry/api';
import { TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import { generateText, stepCountIs, tool } from 'ai-v6';
import { MockLanguageModelV3 } from 'ai-v6/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AuditLogEntry, queryAuditLogs } from '../src/entries/store.js';
import { AI_AUDIT_ACTIONS, traceChat, traceToolCall, withAuditContext } from '../src/index.js';
import { startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { BACKENDS, openTestStore, type TestStore } from './support/stores.js';

const alice = { type: 'user', id: 'user_alice' } as const;
const SECRET_KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123';

/** AI SDK v3 usage is nested: totals plus their breakdown. */
const usage = {
  inputTokens: { total: 11, noCache: 11, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 7, text: 7, reasoning: undefined },
};

/** A model that asks for `getWeather` once, then answers. */
function weatherModel(args: Record<string, unknown> = { city: 'Paris' }) {
  return new MockLanguageModelV3({
    provider: 'openai.chat',
    modelId: 'gpt-4o-mini',
    doGenerate: [
      {
        content: [
          {
            type: 'tool-call',
            toolCallId: 'call-1',
            toolName: 'getWeather',
            input: JSON.stringify(args),
          },
        ],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage,
        warnings: [],
      },
      {
        content: [{ type: 'text', text: 'It is sunny in Paris.' }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage,
        warnings: [],
      },
    ],
  });
}

const weatherInput = z.object({ city: z.string(), apiKey: z.string().optional() });

/** Runs `generateText` with telemetry on, inside an app span whose trace id finds the rows. */
async function askForWeather(
  execute: (input: z.infer<typeof weatherInput>, options: { toolCallId: string }) => unknown,
  args?: Record<string, unknown>,
): Promise<string> {
  return trace.getTracer('app').startActiveSpan('POST /chat', async (span) => {
    try {
      await generateText({
        model: weatherModel(args),
        prompt: 'Weather in Paris? Reply to alice@example.com',
        stopWhen: stepCountIs(3),
        tools: {
          getWeather: tool({ description: 'Get the weather', inputSchema: weatherInput, execute }),
        },
        experimental_telemetry: {
          isEnabled: true,
          functionId: 'weather-assistant',
          metadata: { conversationId: 'conv-42' },
        },
      });
      return span.spanContext().traceId;
    } finally {
      span.end();
    }
  });
}

async function rowsOf(pipeline: TestPipeline, db: TestStore, traceId: string) {
  await pipeline.flush();
  return queryAuditLogs(db.store, { traceId, limit: 100 });
}

function only(rows: AuditLogEntry[], action: string): AuditLogEntry {
  const matching = rows.filter((r) => r.action === action);
  expect(matching, `${action} rows`).toHaveLength(1);
  return matching[0] as AuditLogEntry;
}

describe.each(BACKENDS)('Vercel AI SDK v6 spans on %s', (backend) => {
  let db: TestStore;
  let pipeline: TestPipeline;

  beforeAll(async () => {
    db = await openTestStore(backend);
    pipeline = startTestPipeline(db.store);
  });

  afterAll(async () => {
    await pipeline?.close();
    await db?.close();
  });

  it('records generateText with a tool as one chat row and one tool-call row, both with actor and tenant', async () => {
    const traceId = await withAuditContext({ tenantId: 'acme', actor: alice }, () =>
      askForWeather(async ({ city }) => ({ city, temperature: 21 }), {
        city: 'Paris',
        apiKey: SECRET_KEY,
      }),
    );
    const rows = await rowsOf(pipeline, db, traceId);
    expect(rows.map((r) => r.action).sort()).toEqual([
      AI_AUDIT_ACTIONS.CHAT_MESSAGE,
      AI_AUDIT_ACTIONS.TOOL_CALL,
    ]);

    const toolRow = only(rows, AI_AUDIT_ACTIONS.TOOL_CALL);
    expect(toolRow).toMatchObject({
      outcome: 'success',
      toolName: 'getWeather',
      actorType: 'user',
      actorId: 'user_alice',
      tenantId: 'acme',
      agentName: 'weather-assistant',
      conversationId: 'conv-42',
    });
    expect(toolRow.metadata).toMatchObject({
      source: 'vercel-ai',
      toolCallId: 'call-1',
      spanName: 'ai.toolCall',
    });
    expect(toolRow.metadata.toolParams).toMatchObject({ city: 'Paris' });
    expect(JSON.stringify(toolRow)).not.toContain(SECRET_KEY);

    const chatRow = only(rows, AI_AUDIT_ACTIONS.CHAT_MESSAGE);
    expect(chatRow).toMatchObject({
      outcome: 'success',
      actorId: 'user_alice',
      tenantId: 'acme',
      agentName: 'weather-assistant',
    });
    // Usage is the outer span's sum over both model calls.
    expect(chatRow.metadata).toMatchObject({
      source: 'vercel-ai',
      model: 'gpt-4o-mini',
      provider: 'openai',
      inputTokens: 22,
      outputTokens: 14,
      spanName: 'ai.generateText',
    });
    const content = JSON.stringify(chatRow.metadata.content);
    expect(content).toContain('Weather in Paris?');
    expect(content).not.toContain('alice@example.com');
    expect(JSON.stringify(chatRow.metadata.completion)).toContain('It is sunny in Paris.');
  });

  it('records a tool that throws as outcome failure with its message redacted', async () => {
    const traceId = await withAuditContext({ actor: alice }, () =>
      askForWeather(() => {
        throw new Error('weather service down for card 4111 1111 1111 1111');
      }),
    );
    const toolRow = only(await rowsOf(pipeline, db, traceId), AI_AUDIT_ACTIONS.TOOL_CALL);
    expect(toolRow.outcome).toBe('failure');
    expect(toolRow.metadata.error?.message).toContain('weather service down');
    expect(JSON.stringify(toolRow)).not.toContain('4111 1111 1111 1111');
  });

  it('keeps the helper-made row when the tool itself calls traceToolCall', async () => {
    const traceId = await askForWeather((input, { toolCallId }) =>
      traceToolCall({ toolName: 'getWeather', toolCallId, params: input, actor: alice }, () => ({
        temperature: 21,
      })),
    );
    const toolRow = only(await rowsOf(pipeline, db, traceId), AI_AUDIT_ACTIONS.TOOL_CALL);
    expect(toolRow.metadata.source).toBe('aitrail');
    expect(toolRow.metadata.toolCallId).toBe('call-1');
  });

  it('keeps the helper-made row when traceChat wraps generateText', async () => {
    const traceId = await traceChat({ model: 'gpt-4o-mini', actor: alice }, (chat) =>
      askForWeather(async () => ({ temperature: 21 })).then(() => chat.span.spanContext().traceId),
    );
    const rows = await rowsOf(pipeline, db, traceId);
    expect(only(rows, AI_AUDIT_ACTIONS.CHAT_MESSAGE).metadata.source).toBe('aitrail');
    // The tool call inside is a different action: still recorded, from the AI SDK's span.
    expect(only(rows, AI_AUDIT_ACTIONS.TOOL_CALL).metadata.source).toBe('vercel-ai');
  });
});

describe('Vercel AI SDK spans under the capture policy and head sampling', () => {
  let db: TestStore;
  let pipeline: TestPipeline;

  beforeAll(async () => {
    db = await openTestStore('pglite');
    pipeline = startTestPipeline(db.store, {
      sampler: new TraceIdRatioBasedSampler(0),
      processor: { captureContent: 'none' },
    });
  });

  afterAll(async () => {
    await pipeline?.close();
    await db?.close();
  });

  it('records recognised spans under a 0% sampler, and no content under captureContent none', async () => {
    let traceId = '';
    await withAuditContext({ tenantId: 'acme', actor: alice }, () =>
      generateText({
        model: weatherModel(),
        prompt: 'Weather in Paris?',
        stopWhen: stepCountIs(3),
        tools: {
          getWeather: tool({
            inputSchema: weatherInput,
            execute: async () => {
              traceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
              return { temperature: 21 };
            },
          }),
        },
        experimental_telemetry: { isEnabled: true },
      }),
    );
    const rows = await rowsOf(pipeline, db, traceId);
    expect(rows.map((r) => r.action).sort()).toEqual([
      AI_AUDIT_ACTIONS.CHAT_MESSAGE,
      AI_AUDIT_ACTIONS.TOOL_CALL,
    ]);
    const chatRow = only(rows, AI_AUDIT_ACTIONS.CHAT_MESSAGE);
    expect(chatRow.metadata.content).toBeUndefined();
    expect(chatRow.metadata.completion).toBeUndefined();
    expect(chatRow).toMatchObject({ actorId: 'user_alice', tenantId: 'acme' });
    // The per-step model spans are not audit records, so the 0% sampler drops them.
    expect(pipeline.exported('ai.generateText.doGenerate')).toHaveLength(0);
  });
});
