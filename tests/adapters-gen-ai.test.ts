import { type Attributes, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditLogEntry, queryAuditLogs } from '../src/entries/store.js';
import { AI_AUDIT_ACTIONS, traceToolCall, withAuditContext } from '../src/index.js';
import { startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { openTestStore, type TestStore } from './support/stores.js';

const alice = { type: 'user', id: 'user_alice' } as const;

/**
 * Spans as the GenAI semantic conventions define them, with the attributes AI SDK v7's
 * `@ai-sdk/otel` sets at start (AI SDK v7 itself needs Node 22, so its shape is replayed here).
 */
const tracer = () => trace.getTracer('@ai-sdk/otel');

function span(
  name: string,
  attributes: Attributes,
  fn: () => void = () => {},
  failure?: string,
): void {
  tracer().startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, (s) => {
    fn();
    if (failure) {
      s.recordException({ name: 'Error', message: failure });
      s.setStatus({ code: SpanStatusCode.ERROR, message: failure });
    }
    s.end();
  });
}

describe('GenAI semantic-convention spans', () => {
  let db: TestStore;
  let pipeline: TestPipeline;

  beforeAll(async () => {
    db = await openTestStore('postgres');
    pipeline = startTestPipeline(db.store);
  });

  afterAll(async () => {
    await pipeline?.close();
    await db?.close();
  });

  async function rowsOfTrace(run: () => unknown): Promise<AuditLogEntry[]> {
    const traceId = await withAuditContext({ tenantId: 'acme', actor: alice }, () =>
      trace.getTracer('app').startActiveSpan('POST /agent', async (root) => {
        await run();
        root.end();
        return root.spanContext().traceId;
      }),
    );
    await pipeline.flush();
    return queryAuditLogs(db.store, { traceId, order: 'asc' });
  }

  it('records an invoke_agent run as a task row beside its chat and tool rows', async () => {
    const rows = await rowsOfTrace(() =>
      span(
        'invoke_agent gpt-4o-mini',
        {
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.provider.name': 'openai',
          'gen_ai.agent.name': 'weather-fn',
        },
        () => {
          span('chat gpt-4o-mini', {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': 'openai',
            'gen_ai.request.model': 'gpt-4o-mini',
            'gen_ai.usage.input_tokens': 11,
            'gen_ai.usage.output_tokens': 7,
            'gen_ai.input.messages': JSON.stringify([
              {
                role: 'user',
                parts: [{ type: 'text', content: 'Weather? I am carol@example.com' }],
              },
            ]),
            'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'Be brief' }]),
          });
          span('execute_tool getWeather', {
            'gen_ai.operation.name': 'execute_tool',
            'gen_ai.tool.name': 'getWeather',
            'gen_ai.tool.call.id': 'call-1',
            'gen_ai.tool.type': 'function',
            'gen_ai.tool.call.arguments': JSON.stringify({ city: 'Paris', token: 'tok_live_123' }),
          });
        },
      ),
    );
    const byAction = (action: string) => rows.find((r) => r.action === action) as AuditLogEntry;
    expect(rows.map((r) => r.action).sort()).toEqual([
      AI_AUDIT_ACTIONS.CHAT_MESSAGE,
      AI_AUDIT_ACTIONS.TASK_COMPLETED,
      AI_AUDIT_ACTIONS.TOOL_CALL,
    ]);
    const task = byAction(AI_AUDIT_ACTIONS.TASK_COMPLETED);
    const chat = byAction(AI_AUDIT_ACTIONS.CHAT_MESSAGE);
    const toolCall = byAction(AI_AUDIT_ACTIONS.TOOL_CALL);
    expect(task).toMatchObject({
      agentName: 'weather-fn',
      actorId: 'user_alice',
      taskId: task.spanId,
    });
    expect(chat).toMatchObject({ actorId: 'user_alice', tenantId: 'acme' });
    expect(chat.metadata).toMatchObject({
      source: 'gen-ai',
      model: 'gpt-4o-mini',
      provider: 'openai',
      inputTokens: 11,
      outputTokens: 7,
    });
    const content = JSON.stringify(chat.metadata.content);
    expect(content).toContain('Be brief');
    expect(content).toContain('Weather?');
    expect(content).not.toContain('carol@example.com');
    expect(toolCall).toMatchObject({
      toolName: 'getWeather',
      outcome: 'success',
      actorId: 'user_alice',
      tenantId: 'acme',
    });
    expect(toolCall.metadata).toMatchObject({ toolCallId: 'call-1', source: 'gen-ai' });
    expect(toolCall.metadata.toolParams).toMatchObject({ city: 'Paris' });
    expect(JSON.stringify(toolCall)).not.toContain('tok_live_123');
  });

  it('records a failed execute_tool as outcome failure, and reads generate_content as a chat', async () => {
    const rows = await rowsOfTrace(() => {
      span(
        'execute_tool charge',
        { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'charge' },
        undefined,
        'card 4111 1111 1111 1111 declined',
      );
      span('generate_content gemini-2.5-flash', {
        'gen_ai.operation.name': 'generate_content',
        'gen_ai.system': 'gcp.gemini',
        'gen_ai.request.model': 'gemini-2.5-flash',
      });
    });
    const failed = rows.find((r) => r.action === AI_AUDIT_ACTIONS.TOOL_CALL);
    expect(failed).toMatchObject({ outcome: 'failure', toolName: 'charge' });
    expect(failed?.metadata.error?.message).toContain('declined');
    expect(JSON.stringify(failed)).not.toContain('4111 1111 1111 1111');
    const chat = rows.find((r) => r.action === AI_AUDIT_ACTIONS.CHAT_MESSAGE);
    expect(chat?.metadata).toMatchObject({ provider: 'gcp.gemini', model: 'gemini-2.5-flash' });
  });

  it('records a helper span once, by aitrail: it also looks like an execute_tool span', async () => {
    const rows = await rowsOfTrace(() =>
      traceToolCall({ toolName: 'lookup', toolCallId: 'c-9' }, () => 1),
    );
    expect(rows.map((r) => [r.action, r.metadata.source])).toEqual([
      [AI_AUDIT_ACTIONS.TOOL_CALL, 'aitrail'],
    ]);
  });

  it('records nothing for spans no recogniser knows, whatever their name', async () => {
    const rows = await rowsOfTrace(() => {
      span('constructor', {});
      span('toString', { 'gen_ai.operation.name': 'constructor' });
      span('embeddings text-embedding-3', { 'gen_ai.operation.name': 'embeddings' });
      span('SELECT orders', { 'db.system': 'postgresql' });
    });
    expect(rows).toEqual([]);
  });
});
