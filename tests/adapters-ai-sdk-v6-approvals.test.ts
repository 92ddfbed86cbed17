import { trace } from '@opentelemetry/api';
import { generateText, type ModelMessage, stepCountIs, tool } from 'ai-v6';
import { MockLanguageModelV3 } from 'ai-v6/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AuditLogEntry, queryAuditLogs } from '../src/entries/store.js';
import { AI_AUDIT_ACTIONS, withAuditContext } from '../src/index.js';
import { auditApprovedTools, recordToolApprovals } from '../src/integrations/ai-sdk.js';
import { startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { openTestStore, type TestStore } from './support/stores.js';

const alice = { type: 'user', id: 'user_alice' } as const;
const approver = { type: 'user', id: 'user_ops' } as const;
const CARD = '4111 1111 1111 1111';

const usage = {
  inputTokens: { total: 5, noCache: 5, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 3, text: 3, reasoning: undefined },
};

function model(askForTool: boolean) {
  return new MockLanguageModelV3({
    provider: 'openai.chat',
    modelId: 'gpt-4o-mini',
    doGenerate: askForTool
      ? {
          content: [
            {
              type: 'tool-call',
              toolCallId: 'call-1',
              toolName: 'refund',
              input: JSON.stringify({ orderId: 'o-1', card: CARD }),
            },
          ],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage,
          warnings: [],
        }
      : {
          content: [{ type: 'text', text: 'Refunded.' }],
          finishReason: { unified: 'stop', raw: 'stop' },
          usage,
          warnings: [],
        },
  });
}

/** The app's tools, wrapped once where they are defined. */
const tools = auditApprovedTools({
  refund: tool({
    inputSchema: z.object({ orderId: z.string(), card: z.string() }),
    needsApproval: true,
    execute: async () => ({ refunded: true }),
  }),
});

describe('AI SDK 6 needsApproval through recordToolApprovals and auditApprovedTools', () => {
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

  async function rowsOf(fn: () => Promise<unknown>): Promise<AuditLogEntry[]> {
    const traceId = await withAuditContext({ tenantId: 'acme', actor: alice }, () =>
      trace.getTracer('app').startActiveSpan('POST /chat', async (span) => {
        try {
          await fn();
          return span.spanContext().traceId;
        } finally {
          span.end();
        }
      }),
    );
    await pipeline.flush();
    return queryAuditLogs(db.store, { traceId, order: 'asc', limit: 100 });
  }

  /** Turn one: the model asks for `refund`, which needs approval; the app records the request. */
  async function ask() {
    let history: ModelMessage[] = [];
    let approvalId = '';
    const rows = await rowsOf(async () => {
      const result = await generateText({
        model: model(true),
        prompt: 'Refund order o-1',
        tools,
        stopWhen: stepCountIs(3),
        experimental_telemetry: { isEnabled: true },
      });
      recordToolApprovals({ content: result.content });
      const request = result.content.find((p) => p.type === 'tool-approval-request');
      approvalId = request?.type === 'tool-approval-request' ? request.approvalId : '';
      history = [{ role: 'user', content: 'Refund order o-1' }, ...result.response.messages];
    });
    return { rows, history, approvalId };
  }

  /** Turn two: the decision goes back to the SDK; the app records it with who made it. */
  function decide(history: ModelMessage[], approvalId: string, approved: boolean) {
    const messages: ModelMessage[] = [
      ...history,
      { role: 'tool', content: [{ type: 'tool-approval-response', approvalId, approved }] },
    ];
    return rowsOf(async () => {
      recordToolApprovals({ messages, approver });
      await generateText({
        model: model(false),
        messages,
        tools,
        stopWhen: stepCountIs(3),
        experimental_telemetry: { isEnabled: true },
      });
    });
  }

  it('records the request as ai.approval_created with the approval id and redacted params', async () => {
    const { rows, approvalId } = await ask();
    expect(approvalId).not.toBe('');
    const created = rows.filter((r) => r.action === AI_AUDIT_ACTIONS.APPROVAL_CREATED);
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ approvalId, toolName: 'refund', actorId: 'user_alice' });
    expect(JSON.stringify(rows)).not.toContain(CARD);
  });

  it('records the approval with its approver, and the tool row carries the approval id', async () => {
    const { history, approvalId } = await ask();
    const rows = await decide(history, approvalId, true);
    const approved = rows.filter((r) => r.action === AI_AUDIT_ACTIONS.APPROVAL_APPROVED);
    expect(approved).toHaveLength(1);
    expect(approved[0]).toMatchObject({ approvalId, actorId: 'user_alice', toolName: 'refund' });
    expect(approved[0]?.metadata).toMatchObject({ approverId: 'user_ops', approverType: 'user' });
    const toolRows = rows.filter((r) => r.action === AI_AUDIT_ACTIONS.TOOL_CALL);
    expect(toolRows).toHaveLength(1);
    expect(toolRows[0]).toMatchObject({ toolName: 'refund', approvalId });
    expect(toolRows[0]?.metadata.source).toBe('vercel-ai');
    expect(JSON.stringify(rows)).not.toContain(CARD);
  });

  it('records a denial as ai.approval_rejected and no tool call', async () => {
    const { history, approvalId } = await ask();
    const rows = await decide(history, approvalId, false);
    expect(rows.filter((r) => r.action === AI_AUDIT_ACTIONS.APPROVAL_REJECTED)).toMatchObject([
      { approvalId, outcome: 'denied', toolName: 'refund' },
    ]);
    expect(rows.some((r) => r.action === AI_AUDIT_ACTIONS.TOOL_CALL)).toBe(false);
  });

  it('rejects unknown options with a TypeError naming them', () => {
    expect(() => recordToolApprovals({ message: [] } as never)).toThrow(/unknown option "message"/);
  });
});
