import type {
  AgentInputItem,
  Model,
  ModelResponse,
  RunResult,
  RunToolApprovalItem,
} from '@openai/agents';
import * as agents20 from '@openai/agents';
import { trace } from '@opentelemetry/api';
import { TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import * as agents14 from 'openai-agents-v014';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  instrumentOpenAIAgents,
  type OpenAIAgentsInstrumentation,
} from '../src/entries/openai-agents.js';
import { type AuditLogEntry, queryAuditLogs } from '../src/entries/store.js';
import { AI_AUDIT_ACTIONS, traceToolCall, withAuditContext } from '../src/index.js';
import { importOptionalPeer } from '../src/instrument/optional-peer.js';
import { startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { BACKENDS, openTestStore, type TestStore } from './support/stores.js';

// Nothing may leave the process: no key for the SDK's own exporter, which is replaced anyway.
delete process.env.OPENAI_API_KEY;
/** Both majors side by side: the current SDK and the last one the bridge was built on. */
type AgentsSdk = typeof agents20;
const SDKS: Record<string, AgentsSdk> = {
  '0.20': agents20,
  '0.14': agents14 as unknown as AgentsSdk,
};
// Vitest sets NODE_ENV=test, which turns the Agents SDK's tracing off by default.
for (const sdk of Object.values(SDKS)) sdk.setTracingDisabled(false);

const alice = { type: 'user', id: 'user_alice' } as const;
const manager = { type: 'user', id: 'manager_carol' } as const;
const CARD = '4111 1111 1111 1111';

type Output = ModelResponse['output'];

/** A model that plays a script, one step per call; no network. */
class ScriptedModel implements Model {
  private calls = 0;
  constructor(
    private readonly sdk: AgentsSdk,
    private readonly name: string,
    private readonly script: Output[],
  ) {}

  async getResponse(): Promise<ModelResponse> {
    const step = this.script[Math.min(this.calls, this.script.length - 1)] as Output;
    this.calls += 1;
    return {
      usage: new this.sdk.Usage({ requests: 1, inputTokens: 10, outputTokens: 5, totalTokens: 15 }),
      output: step,
      responseId: `resp_${this.name}_${this.calls}`,
    };
  }

  // biome-ignore lint/correctness/useYield: the scripted runs never stream
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('streaming is not scripted');
  }
}

const say = (text: string): Output => [
  {
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text }],
  },
];
const callTool = (name: string, args: unknown, callId: string): Output => [
  { type: 'function_call', callId, name, arguments: JSON.stringify(args), status: 'completed' },
];

/** Triage hands off to billing; billing looks up the invoice, then asks to refund it. */
function supportAgents(sdk: AgentsSdk, lookup: (input: { invoiceId: string }) => Promise<unknown>) {
  const lookupInvoice = sdk.tool({
    name: 'lookup_invoice',
    description: 'Look up an invoice',
    parameters: z.object({ invoiceId: z.string() }),
    execute: lookup,
  });
  const refund = sdk.tool({
    name: 'refund',
    description: 'Refund an invoice to a card',
    parameters: z.object({ amount: z.number(), cardNumber: z.string() }),
    needsApproval: true,
    execute: async ({ amount }) => `refunded ${amount}`,
  });
  const billing = new sdk.Agent({
    name: 'Billing agent',
    instructions: 'Handle billing',
    tools: [lookupInvoice, refund],
    model: new ScriptedModel(sdk, 'billing', [
      callTool('lookup_invoice', { invoiceId: 'INV-1' }, 'call_lookup_1'),
      callTool('refund', { amount: 50, cardNumber: CARD }, 'call_refund_1'),
      say('Done.'),
    ]),
  });
  return new sdk.Agent({
    name: 'Triage agent',
    instructions: 'Route',
    handoffs: [billing],
    model: new ScriptedModel(sdk, 'triage', [
      callTool('transfer_to_Billing_agent', {}, 'call_hand_1'),
    ]),
  });
}

const COMBINATIONS = [
  ...BACKENDS.map((backend) => ['0.20', backend] as const),
  ['0.14', 'pglite'] as const,
];

/** The one row of `action` (and `toolName`), failing if there is none or more than one. */
function only(rows: AuditLogEntry[], action: string, toolName?: string): AuditLogEntry {
  const matching = rows.filter(
    (r) => r.action === action && (toolName === undefined || r.toolName === toolName),
  );
  expect(matching, `${action} ${toolName ?? ''} rows`).toHaveLength(1);
  return matching[0] as AuditLogEntry;
}

describe.each(COMBINATIONS)('OpenAI Agents SDK %s bridge on %s', (version, backend) => {
  const sdk = SDKS[version] as AgentsSdk;
  let db: TestStore;
  let pipeline: TestPipeline;
  let bridge: OpenAIAgentsInstrumentation;

  beforeAll(async () => {
    db = await openTestStore(backend);
    pipeline = startTestPipeline(db.store);
    bridge = await instrumentOpenAIAgents({ replaceDefaultProcessors: true, sdk });
  });

  afterAll(async () => {
    bridge?.disable();
    await pipeline?.close();
    await db?.close();
  });

  async function rowsOfTenant(tenantId: string): Promise<AuditLogEntry[]> {
    await pipeline.flush();
    return queryAuditLogs(db.store, { tenantId, order: 'asc', limit: 100 });
  }

  /** Runs until the refund waits for approval; `decide` settles it; the run resumes. */
  async function refundRun(
    tenantId: string,
    // biome-ignore lint/suspicious/noExplicitAny: the agents' context and output types do not matter here
    decide: (paused: RunResult<any, any>, item: RunToolApprovalItem) => void,
  ) {
    const runner = new sdk.Runner({ groupId: `conv-${tenantId}` });
    const triage = supportAgents(sdk, async ({ invoiceId }) => ({ invoiceId, amount: 50 }));
    const paused = await withAuditContext({ tenantId, actor: alice }, async () => {
      const result = await runner.run(triage, 'Refund invoice INV-1 please');
      bridge.recordApprovalRequests(result);
      return result;
    });
    expect(paused.interruptions).toHaveLength(1);
    // The decision comes later, in the manager's own request.
    withAuditContext({ tenantId, actor: manager }, () =>
      decide(paused, paused.interruptions[0] as RunToolApprovalItem),
    );
    return withAuditContext({ tenantId, actor: alice }, () => runner.run(triage, paused.state));
  }

  it('records a handoff, tool calls and an approval approved by a named manager', async () => {
    const resumed = await refundRun('t-approve', (paused, item) =>
      bridge.approveToolCall(paused.state, item, { approver: manager, reason: 'within policy' }),
    );
    expect(resumed.finalOutput).toBe('Done.');
    const rows = await rowsOfTenant('t-approve');
    // Rows come in time order; events within one timestamp have no defined order between them,
    // so the actions are compared as a set and their order through their times.
    const expected = [
      AI_AUDIT_ACTIONS.AGENT_HANDOFF,
      AI_AUDIT_ACTIONS.TOOL_CALL,
      AI_AUDIT_ACTIONS.APPROVAL_CREATED,
      AI_AUDIT_ACTIONS.APPROVAL_APPROVED,
      AI_AUDIT_ACTIONS.TOOL_CALL,
    ];
    expect(rows.map((r) => r.action).sort()).toEqual([...expected].sort());
    const at = (action: string) =>
      rows.filter((r) => r.action === action).map((r) => new Date(r.occurredAt).getTime());
    const [firstCall, gatedCall] = at(AI_AUDIT_ACTIONS.TOOL_CALL);
    expect(at(AI_AUDIT_ACTIONS.AGENT_HANDOFF)[0]).toBeLessThanOrEqual(firstCall as number);
    expect(at(AI_AUDIT_ACTIONS.APPROVAL_CREATED)[0]).toBeLessThanOrEqual(
      at(AI_AUDIT_ACTIONS.APPROVAL_APPROVED)[0] as number,
    );
    expect(at(AI_AUDIT_ACTIONS.APPROVAL_APPROVED)[0]).toBeLessThanOrEqual(gatedCall as number);

    const handoff = only(rows, AI_AUDIT_ACTIONS.AGENT_HANDOFF);
    expect(handoff).toMatchObject({
      actorId: 'user_alice',
      agentName: 'Triage agent',
      conversationId: 'conv-t-approve',
    });
    expect(handoff.metadata).toMatchObject({
      source: 'openai-agents',
      handoffFrom: 'Triage agent',
      handoffTo: 'Billing agent',
    });

    const lookup = only(rows, AI_AUDIT_ACTIONS.TOOL_CALL, 'lookup_invoice');
    expect(lookup).toMatchObject({ outcome: 'success', agentName: 'Billing agent' });
    expect(lookup.metadata.toolParams).toEqual({ invoiceId: 'INV-1' });

    const created = only(rows, AI_AUDIT_ACTIONS.APPROVAL_CREATED);
    expect(created).toMatchObject({
      actorId: 'user_alice',
      approvalId: 'call_refund_1',
      toolName: 'refund',
      agentName: 'Billing agent',
    });
    expect(created.metadata.toolParams).toMatchObject({ amount: 50 });
    expect(JSON.stringify(created)).not.toContain(CARD);

    const approved = only(rows, AI_AUDIT_ACTIONS.APPROVAL_APPROVED);
    expect(approved).toMatchObject({
      outcome: 'success',
      actorId: 'manager_carol',
      approvalId: 'call_refund_1',
      toolName: 'refund',
    });
    expect(approved.metadata).toMatchObject({
      approverId: 'manager_carol',
      approverType: 'user',
      reason: 'within policy',
    });

    const refund = only(rows, AI_AUDIT_ACTIONS.TOOL_CALL, 'refund');
    expect(refund).toMatchObject({
      outcome: 'success',
      actorId: 'user_alice',
      tenantId: 't-approve',
    });
    expect(refund.metadata.toolCallId).toBe('call_refund_1');
    expect(JSON.stringify(rows)).not.toContain(CARD);
  });

  it('records a rejection with the manager as approver and the tool call as denied', async () => {
    await refundRun('t-reject', (paused, item) =>
      bridge.rejectToolCall(paused.state, item, {
        approver: manager,
        reason: 'amount over limit',
        message: 'A manager declined this refund.',
      }),
    );
    const rows = await rowsOfTenant('t-reject');
    const rejected = only(rows, AI_AUDIT_ACTIONS.APPROVAL_REJECTED);
    expect(rejected).toMatchObject({
      outcome: 'denied',
      approvalId: 'call_refund_1',
      actorId: 'manager_carol',
    });
    expect(rejected.metadata).toMatchObject({ approverId: 'manager_carol', approverType: 'user' });
    const refund = only(rows, AI_AUDIT_ACTIONS.TOOL_CALL, 'refund');
    expect(refund).toMatchObject({ outcome: 'denied', actorId: 'user_alice' });
    expect(refund.metadata.toolCallId).toBe('call_refund_1');
  });

  it('records decisions made with state.approve/reject directly with the SDK as approver', async () => {
    await refundRun('t-direct-reject', (paused, item) => paused.state.reject(item));
    const rejected = only(
      await rowsOfTenant('t-direct-reject'),
      AI_AUDIT_ACTIONS.APPROVAL_REJECTED,
    );
    expect(rejected).toMatchObject({ outcome: 'denied', approvalId: 'call_refund_1' });
    expect(rejected.metadata).toMatchObject({
      source: 'openai-agents',
      approverType: 'system',
      approverId: 'openai-agents',
      approverAttributed: false,
    });

    await refundRun('t-direct-approve', (paused, item) => paused.state.approve(item));
    const approved = only(
      await rowsOfTenant('t-direct-approve'),
      AI_AUDIT_ACTIONS.APPROVAL_APPROVED,
    );
    expect(approved).toMatchObject({ approvalId: 'call_refund_1', toolName: 'refund' });
    expect(approved.metadata).toMatchObject({
      approverType: 'system',
      approverId: 'openai-agents',
      approverAttributed: false,
    });
  });

  it('refuses a decision without an approver before touching the run state', async () => {
    let touched = false;
    const state = {
      approve: () => {
        touched = true;
      },
      reject: () => {
        touched = true;
      },
    };
    const item = { type: 'tool_approval_item', rawItem: { callId: 'c1', name: 'refund' } };
    expect(() => bridge.approveToolCall(state, item, {} as never)).toThrow(/approver/);
    expect(() =>
      bridge.rejectToolCall(state, item, { approver: { type: 'user' } } as never),
    ).toThrow(TypeError);
    expect(touched).toBe(false);
  });

  it('keeps the helper-made row when an Agents SDK tool calls traceToolCall', async () => {
    const triage = supportAgents(sdk, ({ invoiceId }) =>
      traceToolCall({ toolName: 'lookup_invoice', params: { invoiceId } }, () => ({ amount: 50 })),
    );
    await withAuditContext({ tenantId: 't-helper', actor: alice }, () =>
      new sdk.Runner().run(triage, 'Refund invoice INV-1 please'),
    );
    const lookup = only(
      await rowsOfTenant('t-helper'),
      AI_AUDIT_ACTIONS.TOOL_CALL,
      'lookup_invoice',
    );
    expect(lookup.metadata.source).toBe('aitrail');
  });

  it('records a tripped guardrail with its name', async () => {
    const agent = new sdk.Agent({
      name: 'Guarded agent',
      instructions: 'Answer',
      model: new ScriptedModel(sdk, 'guarded', [say('never reached')]),
      inputGuardrails: [
        {
          name: 'no_card_numbers',
          execute: async ({ input }: { input: string | AgentInputItem[] }) => ({
            tripwireTriggered: JSON.stringify(input).includes('4111'),
            outputInfo: { reason: 'card number in input' },
          }),
        },
      ],
    });
    const outcome = await withAuditContext({ tenantId: 't-guard', actor: alice }, () =>
      new sdk.Runner().run(agent, `charge ${CARD}`).catch((error: unknown) => error),
    );
    expect(outcome).toBeInstanceOf(sdk.InputGuardrailTripwireTriggered);
    const tripped = only(await rowsOfTenant('t-guard'), 'ai.guardrail_triggered');
    expect(tripped).toMatchObject({
      outcome: 'denied',
      actorId: 'user_alice',
      resourceType: 'guardrail',
      resourceId: 'no_card_numbers',
      agentName: 'Guarded agent',
    });
    expect(tripped.metadata.guardrailName).toBe('no_card_numbers');
  });
});

describe('OpenAI Agents SDK bridge under a 0% head sampler', () => {
  const sdk = agents20;
  let db: TestStore;
  let pipeline: TestPipeline;
  let bridge: OpenAIAgentsInstrumentation;

  beforeAll(async () => {
    db = await openTestStore('pglite');
    pipeline = startTestPipeline(db.store, { sampler: new TraceIdRatioBasedSampler(0) });
    bridge = await instrumentOpenAIAgents({ replaceDefaultProcessors: true, sdk });
  });

  afterAll(async () => {
    bridge?.disable();
    await pipeline?.close();
    await db?.close();
  });

  it('records the handoff and tool calls: bridged spans start with audit.action', async () => {
    const triage = supportAgents(sdk, async () => ({ amount: 50 }));
    await withAuditContext({ tenantId: 't-sampled', actor: alice }, () =>
      trace.getTracer('app').startActiveSpan('POST /refunds', async (span) => {
        await new sdk.Runner().run(triage, 'Refund invoice INV-1 please');
        span.end();
      }),
    );
    await pipeline.flush();
    const rows = await queryAuditLogs(db.store, { tenantId: 't-sampled', order: 'asc' });
    // Two events within one timestamp have no defined row order: compare the set, then the times.
    expect(rows.map((r) => r.action).sort()).toEqual(
      [AI_AUDIT_ACTIONS.AGENT_HANDOFF, AI_AUDIT_ACTIONS.TOOL_CALL].sort(),
    );
    const handoff = only(rows, AI_AUDIT_ACTIONS.AGENT_HANDOFF);
    const call = only(rows, AI_AUDIT_ACTIONS.TOOL_CALL);
    expect(new Date(handoff.occurredAt).getTime()).toBeLessThanOrEqual(
      new Date(call.occurredAt).getTime(),
    );
    expect(pipeline.exported('POST /refunds')).toHaveLength(0);
  });
});

describe('instrumentOpenAIAgents without the SDK installed', () => {
  it('names the missing optional peer dependency and how to add it', async () => {
    const missing = '@openai/agents-not-installed';
    await expect(
      importOptionalPeer(missing, 'instrumentOpenAIAgents', () => import(missing)),
    ).rejects.toThrow(/optional peer dependency "@openai\/agents-not-installed".*npm install/);
  });

  it('rejects unknown options with a TypeError naming them', async () => {
    await expect(instrumentOpenAIAgents({ replace: true } as never)).rejects.toThrow(
      /unknown option "replace"/,
    );
  });

  it('rejects an sdk option that is not the @openai/agents module', async () => {
    await expect(instrumentOpenAIAgents({ sdk: {} })).rejects.toThrow(/sdk must be/);
  });
});
