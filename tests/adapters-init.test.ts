import { rmSync } from 'node:fs';
import {
  Agent,
  tool as agentsTool,
  type Model,
  type ModelResponse,
  Runner,
  setTracingDisabled,
  Usage,
} from '@openai/agents';
import { TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import { generateText, stepCountIs, tool } from 'ai-v6';
import { MockLanguageModelV3 } from 'ai-v6/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { queryAuditLogs } from '../src/entries/store.js';
import {
  AI_AUDIT_ACTIONS,
  type AuditTelemetry,
  initAuditTelemetry,
  withAuditContext,
} from '../src/index.js';
import { scratchDir } from './support/stores.js';

delete process.env.OPENAI_API_KEY;
setTracingDisabled(false);

const alice = { type: 'user', id: 'user_alice' } as const;

class OneToolModel implements Model {
  private calls = 0;

  async getResponse(): Promise<ModelResponse> {
    this.calls += 1;
    const output: ModelResponse['output'] =
      this.calls === 1
        ? [
            {
              type: 'function_call',
              callId: 'call_ping_1',
              name: 'ping',
              arguments: '{}',
              status: 'completed',
            },
          ]
        : [
            {
              type: 'message',
              role: 'assistant',
              status: 'completed',
              content: [{ type: 'output_text', text: 'pong' }],
            },
          ];
    return { usage: new Usage({ requests: 1 }), output, responseId: `resp_${this.calls}` };
  }

  // biome-ignore lint/correctness/useYield: never streamed
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('streaming is not scripted');
  }
}

describe('initAuditTelemetry wires the recognisers and the OpenAI Agents SDK bridge', () => {
  let telemetry: AuditTelemetry;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = scratchDir();
    telemetry = await initAuditTelemetry({
      dataDir,
      serviceName: 'adapters-init',
      handleSignals: false,
      sampler: new TraceIdRatioBasedSampler(0),
      captureContent: 'none',
      openAIAgents: { replaceDefaultProcessors: true },
    });
  });

  afterAll(async () => {
    await telemetry?.shutdown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('records Vercel AI SDK spans under a 0% sampler, without content under captureContent none', async () => {
    await withAuditContext({ tenantId: 't-init-ai', actor: alice }, () =>
      generateText({
        model: new MockLanguageModelV3({
          modelId: 'mock-model',
          doGenerate: {
            content: [{ type: 'text', text: 'hello Alice' }],
            finishReason: { unified: 'stop', raw: 'stop' },
            usage: {
              inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined },
              outputTokens: { total: 2, text: 2, reasoning: undefined },
            },
            warnings: [],
          },
        }),
        prompt: 'Say hello',
        experimental_telemetry: { isEnabled: true },
      }),
    );
    await telemetry.flush();
    const rows = await queryAuditLogs(telemetry.store, { tenantId: 't-init-ai' });
    expect(rows.map((r) => r.action)).toEqual([AI_AUDIT_ACTIONS.CHAT_MESSAGE]);
    expect(rows[0]).toMatchObject({ actorId: 'user_alice', serviceName: 'adapters-init' });
    expect(rows[0]?.metadata).toMatchObject({ source: 'vercel-ai', inputTokens: 3 });
    expect(rows[0]?.metadata.content).toBeUndefined();
    expect(rows[0]?.metadata.completion).toBeUndefined();
  });

  it('records OpenAI Agents SDK tool calls once openAIAgents is on', async () => {
    const agent = new Agent({
      name: 'Ping agent',
      instructions: 'Ping',
      model: new OneToolModel(),
      tools: [
        agentsTool({
          name: 'ping',
          description: 'Ping',
          parameters: z.object({}),
          execute: async () => 'pong',
        }),
      ],
    });
    const result = await withAuditContext({ tenantId: 't-init-agents', actor: alice }, () =>
      new Runner().run(agent, 'ping please'),
    );
    expect(result.finalOutput).toBe('pong');
    await telemetry.flush();
    const rows = await queryAuditLogs(telemetry.store, { tenantId: 't-init-agents' });
    expect(rows.map((r) => [r.action, r.toolName, r.agentName, r.metadata.source])).toEqual([
      [AI_AUDIT_ACTIONS.TOOL_CALL, 'ping', 'Ping agent', 'openai-agents'],
    ]);
  });

  it('records a tool-using generateText as a chat row and a tool row, both with the actor', async () => {
    await withAuditContext({ tenantId: 't-init-tools', actor: alice }, () =>
      generateText({
        model: new MockLanguageModelV3({
          doGenerate: [
            {
              content: [
                { type: 'tool-call', toolCallId: 'c1', toolName: 'lookup', input: '{"id":"A1"}' },
              ],
              finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
              usage: {
                inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
                outputTokens: { total: 1, text: 1, reasoning: undefined },
              },
              warnings: [],
            },
            {
              content: [{ type: 'text', text: 'done' }],
              finishReason: { unified: 'stop', raw: 'stop' },
              usage: {
                inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined },
                outputTokens: { total: 1, text: 1, reasoning: undefined },
              },
              warnings: [],
            },
          ],
        }),
        prompt: 'Look up A1',
        stopWhen: stepCountIs(2),
        tools: {
          lookup: tool({ inputSchema: z.object({ id: z.string() }), execute: async () => 'ok' }),
        },
        experimental_telemetry: { isEnabled: true },
      }),
    );
    await telemetry.flush();
    const rows = await queryAuditLogs(telemetry.store, { tenantId: 't-init-tools' });
    expect(rows.map((r) => r.action).sort()).toEqual([
      AI_AUDIT_ACTIONS.CHAT_MESSAGE,
      AI_AUDIT_ACTIONS.TOOL_CALL,
    ]);
    for (const row of rows) expect(row.actorId).toBe('user_alice');
  });
});

describe('initAuditTelemetry option checks', () => {
  it('rejects an openAIAgents value that is neither a boolean nor options', async () => {
    await expect(
      initAuditTelemetry({ openAIAgents: 'yes' as never, dataDir: scratchDir() }),
    ).rejects.toThrow(/openAIAgents must be a boolean/);
  });
});
