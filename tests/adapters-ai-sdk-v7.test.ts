import { OpenTelemetry } from '@ai-sdk/otel';
import { trace } from '@opentelemetry/api';
import { generateText, type ModelMessage, stepCountIs, tool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AuditLogEntry, queryAuditLogs } from '../src/entries/store.js';
import { AI_AUDIT_ACTIONS, traceChat, traceToolCall, withAuditContext } from '../src/index.js';
import { auditTelemetry } from '../src/integrations/ai-sdk.js';
import { startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { openTestStore, type TestStore } from './support/stores.js';

const alice = { type: 'user', id: 'user_alice' } as const;
const CARD = '4111 1111 1111 1111';

const usage = {
  inputTokens: { total: 5, noCache: 5, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 3, text: 3, reasoning: undefined },
};

const toolCallTurn = {
  content: [
    {
      type: 'tool-call' as const,
      toolCallId: 'call-1',
      toolName: 'refund',
      input: JSON.stringify({ orderId: 'o-1', card: CARD }),
    },
  ],
  finishReason: { unified: 'tool-calls' as const, raw: 'tool_calls' },
  usage,
  warnings: [],
};

const answerTurn = {
  content: [{ type: 'text' as const, text: 'Refunded.' }],
  finishReason: { unified: 'stop' as const, raw: 'stop' },
  usage,
  warnings: [],
};

/** A local fake provider: scripted turns, no network. */
function model(...turns: (typeof toolCallTurn | typeof answerTurn)[]) {
  return new MockLanguageModelV4({
    provider: 'openai.chat',
    modelId: 'gpt-4o-mini',
    doGenerate: turns,
  });
}

const refundInput = z.object({ orderId: z.string(), card: z.string() });

function refundTool(options: { needsApproval?: boolean; execute?: () => unknown } = {}) {
  return tool({
    inputSchema: refundInput,
    needsApproval: options.needsApproval ?? false,
    execute: async () => options.execute?.() ?? { refunded: true },
  });
}

describe('AI SDK 7 through @ai-sdk/otel', () => {
  let db: TestStore;
  let pipeline: TestPipeline;
  /** The integration as an app registers it, per call here so tests do not share globals. */
  let integrations: ReturnType<typeof auditTelemetry<OpenTelemetry>>;

  beforeAll(async () => {
    db = await openTestStore('postgres');
    pipeline = startTestPipeline(db.store);
    integrations = auditTelemetry({ telemetry: new OpenTelemetry() });
  });

  afterAll(async () => {
    await pipeline?.close();
    await db?.close();
  });

  /** Runs `fn` under an app span; returns the rows of its trace, oldest first. */
  async function rowsOf(fn: () => Promise<unknown>): Promise<AuditLogEntry[]> {
    const traceId = await trace.getTracer('app').startActiveSpan('POST /chat', async (span) => {
      try {
        await fn();
        return span.spanContext().traceId;
      } finally {
        span.end();
      }
    });
    await pipeline.flush();
    return queryAuditLogs(db.store, { traceId, order: 'asc', limit: 100 });
  }

  function actions(rows: AuditLogEntry[]): string[] {
    return rows.map((r) => r.action).sort();
  }

  it('records the agent invocation as a task, each model call as a chat and the tool call, with actor and redacted params', async () => {
    const rows = await rowsOf(() =>
      withAuditContext({ tenantId: 'acme', actor: alice }, () =>
        generateText({
          model: model(toolCallTurn, answerTurn),
          prompt: 'Refund order o-1',
          tools: { refund: refundTool() },
          stopWhen: stepCountIs(3),
          telemetry: { integrations, functionId: 'support-agent' },
        }),
      ),
    );
    expect(actions(rows)).toEqual([
      AI_AUDIT_ACTIONS.CHAT_MESSAGE,
      AI_AUDIT_ACTIONS.CHAT_MESSAGE,
      AI_AUDIT_ACTIONS.TASK_COMPLETED,
      AI_AUDIT_ACTIONS.TOOL_CALL,
    ]);
    for (const row of rows) expect(row).toMatchObject({ actorId: 'user_alice', tenantId: 'acme' });
    const task = rows.find((r) => r.action === AI_AUDIT_ACTIONS.TASK_COMPLETED);
    expect(task).toMatchObject({ agentName: 'support-agent', outcome: 'success' });
    expect(task?.taskId).toBe(task?.spanId);
    expect(task?.metadata).toMatchObject({ source: 'gen-ai', taskName: 'support-agent' });
    const toolRow = rows.find((r) => r.action === AI_AUDIT_ACTIONS.TOOL_CALL);
    expect(toolRow).toMatchObject({ toolName: 'refund', outcome: 'success', approvalId: null });
    expect(toolRow?.metadata).toMatchObject({
      toolCallId: 'call-1',
      toolParams: { orderId: 'o-1' },
    });
    expect(JSON.stringify(rows)).not.toContain(CARD);
  });

  it('takes the actor and tenant from runtimeContext when the app passes them', async () => {
    const rows = await rowsOf(() =>
      generateText({
        model: model(toolCallTurn, answerTurn),
        prompt: 'Refund order o-1',
        tools: { refund: refundTool() },
        stopWhen: stepCountIs(3),
        runtimeContext: { userId: 'user_bob', tenantId: 'globex' },
        telemetry: { integrations, includeRuntimeContext: { userId: true, tenantId: true } },
      }),
    );
    expect(rows).toHaveLength(4);
    for (const row of rows)
      expect(row).toMatchObject({ actorType: 'user', actorId: 'user_bob', tenantId: 'globex' });
  });

  it('records a failed invocation as ai.task_failed', async () => {
    const failing = new MockLanguageModelV4({
      doGenerate: async () => {
        throw new Error('provider down');
      },
    });
    const rows = await rowsOf(() =>
      withAuditContext({ actor: alice }, () =>
        generateText({ model: failing, prompt: 'hi', maxRetries: 0, telemetry: { integrations } }),
      ).catch(() => undefined),
    );
    expect(rows.find((r) => r.action === AI_AUDIT_ACTIONS.TASK_FAILED)).toMatchObject({
      outcome: 'failure',
      actorId: 'user_alice',
    });
  });

  describe('tool approvals', () => {
    async function requestApproval() {
      let approvalId = '';
      const history: ModelMessage[] = [{ role: 'user', content: 'Refund order o-1' }];
      const rows = await rowsOf(async () => {
        const first = await generateText({
          model: model(toolCallTurn),
          prompt: 'Refund order o-1',
          tools: { refund: refundTool({ needsApproval: true }) },
          stopWhen: stepCountIs(3),
          runtimeContext: { userId: 'user_alice' },
          telemetry: { integrations, includeRuntimeContext: { userId: true } },
        });
        const request = first.content.find((p) => p.type === 'tool-approval-request');
        if (request?.type === 'tool-approval-request') approvalId = request.approvalId;
        history.push(...first.response.messages);
      });
      expect(approvalId).not.toBe('');
      return { rows, approvalId, history };
    }

    function decide(history: ModelMessage[], approvalId: string, approved: boolean) {
      return rowsOf(() =>
        generateText({
          model: model(answerTurn),
          tools: { refund: refundTool({ needsApproval: true }) },
          stopWhen: stepCountIs(3),
          messages: [
            ...history,
            {
              role: 'tool',
              content: [
                { type: 'tool-approval-response', approvalId, approved, reason: 'ok by ops' },
              ],
            },
          ],
          runtimeContext: { userId: 'user_approver' },
          telemetry: { integrations, includeRuntimeContext: { userId: true } },
        }),
      );
    }

    it('records the request as ai.approval_created with the approval id, tool and redacted params', async () => {
      const { rows, approvalId } = await requestApproval();
      const created = rows.filter((r) => r.action === AI_AUDIT_ACTIONS.APPROVAL_CREATED);
      expect(created).toHaveLength(1);
      expect(created[0]).toMatchObject({ approvalId, toolName: 'refund', actorId: 'user_alice' });
      expect(created[0]?.metadata.toolParams).toMatchObject({ orderId: 'o-1' });
      expect(rows.some((r) => r.action === AI_AUDIT_ACTIONS.TOOL_CALL)).toBe(false);
      expect(JSON.stringify(rows)).not.toContain(CARD);
    });

    it('records an approval with its approver and links the gated tool call to it', async () => {
      const { approvalId, history } = await requestApproval();
      const rows = await decide(history, approvalId, true);
      const approved = rows.filter((r) => r.action === AI_AUDIT_ACTIONS.APPROVAL_APPROVED);
      expect(approved).toHaveLength(1);
      expect(approved[0]).toMatchObject({ approvalId, toolName: 'refund', outcome: 'success' });
      expect(approved[0]?.metadata).toMatchObject({
        approverId: 'user_approver',
        approverType: 'user',
        reason: 'ok by ops',
      });
      const toolRows = rows.filter((r) => r.action === AI_AUDIT_ACTIONS.TOOL_CALL);
      expect(toolRows).toHaveLength(1);
      expect(toolRows[0]).toMatchObject({
        toolName: 'refund',
        approvalId,
        actorId: 'user_approver',
      });
      expect(JSON.stringify(rows)).not.toContain(CARD);
    });

    it('records a denial as ai.approval_rejected, outcome denied, and no tool call', async () => {
      const { approvalId, history } = await requestApproval();
      const rows = await decide(history, approvalId, false);
      const rejected = rows.filter((r) => r.action === AI_AUDIT_ACTIONS.APPROVAL_REJECTED);
      expect(rejected).toHaveLength(1);
      expect(rejected[0]).toMatchObject({ approvalId, outcome: 'denied', toolName: 'refund' });
      expect(rejected[0]?.metadata.approverId).toBe('user_approver');
      expect(rows.some((r) => r.action === AI_AUDIT_ACTIONS.TOOL_CALL)).toBe(false);
    });

    it('does not record a decision again when a later call carries it in its history', async () => {
      const { approvalId, history } = await requestApproval();
      const response = { type: 'tool-approval-response' as const, approvalId, approved: true };
      const result = {
        type: 'tool-result' as const,
        toolCallId: 'call-1',
        toolName: 'refund',
        output: { type: 'json' as const, value: { refunded: true } },
      };
      const later = await rowsOf(async () => {
        await generateText({
          model: model(answerTurn),
          tools: { refund: refundTool({ needsApproval: true }) },
          messages: [...history, { role: 'tool', content: [response] }],
          telemetry: { integrations },
        });
        // The decision again, now with the call's result beside it: already acted on.
        await generateText({
          model: model(answerTurn),
          tools: { refund: refundTool({ needsApproval: true }) },
          messages: [...history, { role: 'tool', content: [response, result] }],
          telemetry: { integrations },
        });
        await generateText({
          model: model(answerTurn),
          messages: [
            ...history,
            { role: 'tool', content: [response, result] },
            { role: 'user', content: 'thanks' },
          ],
          telemetry: { integrations },
        });
      });
      expect(later.filter((r) => r.action === AI_AUDIT_ACTIONS.APPROVAL_APPROVED)).toHaveLength(1);
      expect(later.filter((r) => r.action === AI_AUDIT_ACTIONS.TOOL_CALL)).toHaveLength(1);
    });
  });

  describe('helpers wrapping the same work', () => {
    it('keeps one tool row, the helper-made one, when the tool calls traceToolCall', async () => {
      const rows = await rowsOf(() =>
        generateText({
          model: model(toolCallTurn, answerTurn),
          prompt: 'Refund order o-1',
          tools: {
            refund: tool({
              inputSchema: refundInput,
              execute: (input, { toolCallId }) =>
                traceToolCall(
                  { toolName: 'refund', toolCallId, params: input, actor: alice },
                  () => ({
                    refunded: true,
                  }),
                ),
            }),
          },
          stopWhen: stepCountIs(3),
          telemetry: { integrations },
        }),
      );
      const toolRows = rows.filter((r) => r.action === AI_AUDIT_ACTIONS.TOOL_CALL);
      expect(toolRows.map((r) => r.metadata.source)).toEqual(['aitrail']);
    });

    it('keeps one chat row, the helper-made one, when traceChat wraps generateText', async () => {
      const rows = await rowsOf(() =>
        traceChat({ model: 'gpt-4o-mini', actor: alice }, () =>
          generateText({
            model: model(toolCallTurn, answerTurn),
            prompt: 'Refund order o-1',
            tools: { refund: refundTool() },
            stopWhen: stepCountIs(3),
            telemetry: { integrations },
          }),
        ),
      );
      const chats = rows.filter((r) => r.action === AI_AUDIT_ACTIONS.CHAT_MESSAGE);
      expect(chats.map((r) => r.metadata.source)).toEqual(['aitrail']);
      // The invocation and the tool call are other actions: still recorded from the SDK's spans.
      expect(actions(rows)).toEqual([
        AI_AUDIT_ACTIONS.CHAT_MESSAGE,
        AI_AUDIT_ACTIONS.TASK_COMPLETED,
        AI_AUDIT_ACTIONS.TOOL_CALL,
      ]);
    });
  });
});
