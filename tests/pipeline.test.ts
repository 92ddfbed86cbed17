import {
  type Attributes,
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  SamplingDecision,
  SpanKind,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditLogEntry, queryAuditLogs } from '../src/entries/store.js';
import {
  AI_AUDIT_ACTIONS,
  recordApproval,
  recordAuditEvent,
  recordBudgetExceeded,
  recordHandoff,
  recordRateLimited,
  recordTaskQueued,
  traceChat,
  traceTask,
  traceToolCall,
  withAuditContext,
} from '../src/index.js';
import { AuditSampler } from '../src/processor/audit-sampler.js';
import { startTestPipeline, TEST_SERVICE, type TestPipeline } from './support/pipeline.js';
import { BACKENDS, openTestStore, type TestStore } from './support/stores.js';

const alice = { type: 'user', id: 'user_alice' } as const;

describe.each(BACKENDS)('audit pipeline on %s', (backend) => {
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

  async function rowFor(eventId: string): Promise<AuditLogEntry> {
    await pipeline.flush();
    const traceId = eventId.slice(0, 32);
    const rows = await queryAuditLogs(db.store, { traceId, limit: 1000 });
    const row = rows.find((r) => r.eventId === eventId);
    if (!row)
      throw new Error(
        `no audit row with event_id ${eventId}; trace has ${rows.map((r) => r.eventId).join(', ')}`,
      );
    return row;
  }

  it('records a tool call with actor, tenant, the span ids and redacted params', async () => {
    const spanContext = await withAuditContext({ tenantId: 'acme', actor: alice }, () =>
      traceToolCall(
        {
          toolName: 'lookup_order',
          toolCallId: 'call_1',
          conversationId: 'conv_1',
          agentName: 'billing',
          params: { orderId: 'ORD-1', password: 'hunter2' },
        },
        async (span) => span.spanContext(),
      ),
    );
    const row = await rowFor(`${spanContext.traceId}:${spanContext.spanId}`);
    expect(row).toMatchObject({
      action: AI_AUDIT_ACTIONS.TOOL_CALL,
      outcome: 'success',
      actorType: 'user',
      actorId: 'user_alice',
      tenantId: 'acme',
      toolName: 'lookup_order',
      agentName: 'billing',
      conversationId: 'conv_1',
      traceId: spanContext.traceId,
      spanId: spanContext.spanId,
      serviceName: TEST_SERVICE,
    });
    expect(row.metadata.toolCallId).toBe('call_1');
    expect(row.metadata.toolParams).toMatchObject({ orderId: 'ORD-1' });
    expect(JSON.stringify(row.metadata)).not.toContain('hunter2');
    expect(row.metadata.durationMs).toBeGreaterThanOrEqual(0);
    expect(pipeline.exported('execute_tool lookup_order').length).toBeGreaterThan(0);
  });

  it('a failing tool yields outcome failure and the caller still sees its own error', async () => {
    const thrown = new RangeError('gateway timeout for card 4111 1111 1111 1111');
    let spanIds: { traceId: string; spanId: string } | undefined;
    const caught = await traceToolCall({ toolName: 'charge_card', actor: alice }, (span) => {
      spanIds = span.spanContext();
      throw thrown;
    }).catch((error: unknown) => error);
    expect(caught).toBe(thrown);
    const ids = spanIds as { traceId: string; spanId: string };
    const row = await rowFor(`${ids.traceId}:${ids.spanId}`);
    expect(row.outcome).toBe('failure');
    expect(row.metadata.error?.type).toBe('RangeError');
    expect(row.metadata.error?.message).toContain('gateway timeout');
    expect(JSON.stringify(row)).not.toContain('4111 1111 1111 1111');
  });

  it('records a chat message with model, provider, token usage and redacted content', async () => {
    const ids = await traceChat(
      {
        model: 'gpt-4o-mini',
        provider: 'openai',
        actor: alice,
        content: 'mail me at alice@example.com',
      },
      (chat) => {
        chat.setUsage({ inputTokens: 12, outputTokens: 3 });
        return chat.span.spanContext();
      },
    );
    const row = await rowFor(`${ids.traceId}:${ids.spanId}`);
    expect(row.action).toBe(AI_AUDIT_ACTIONS.CHAT_MESSAGE);
    expect(row.metadata).toMatchObject({
      model: 'gpt-4o-mini',
      provider: 'openai',
      inputTokens: 12,
      outputTokens: 3,
    });
    expect(JSON.stringify(row.metadata.content)).toContain('mail me at');
    expect(JSON.stringify(row.metadata.content)).not.toContain('alice@example.com');
    expect(pipeline.exported('chat gpt-4o-mini').length).toBeGreaterThan(0);
  });

  it('records an agent handoff with both agents', async () => {
    const ref = withAuditContext({ tenantId: 'acme', actor: alice }, () =>
      recordHandoff({ fromAgent: 'triage', toAgent: 'billing', reason: 'billing question' }),
    );
    const row = await rowFor(ref.eventId);
    expect(row).toMatchObject({
      action: AI_AUDIT_ACTIONS.AGENT_HANDOFF,
      agentName: 'triage',
      actorId: 'user_alice',
      tenantId: 'acme',
    });
    expect(row.metadata).toMatchObject({
      handoffFrom: 'triage',
      handoffTo: 'billing',
      reason: 'billing question',
    });
  });

  it('records each approval status with its outcome and the approver', async () => {
    const manager = { type: 'user', id: 'manager_carol' } as const;
    const cases = [
      { status: 'created', action: AI_AUDIT_ACTIONS.APPROVAL_CREATED, outcome: 'success' },
      {
        status: 'approved',
        action: AI_AUDIT_ACTIONS.APPROVAL_APPROVED,
        outcome: 'success',
        approver: manager,
      },
      {
        status: 'rejected',
        action: AI_AUDIT_ACTIONS.APPROVAL_REJECTED,
        outcome: 'denied',
        approver: manager,
      },
      { status: 'expired', action: AI_AUDIT_ACTIONS.APPROVAL_EXPIRED, outcome: 'denied' },
    ] as const;
    for (const c of cases) {
      const ref = recordApproval({
        status: c.status,
        approvalId: 'appr_1',
        toolName: 'issue_refund',
        actor: alice,
        ...('approver' in c ? { approver: c.approver } : {}),
      });
      const row = await rowFor(ref.eventId);
      expect(row).toMatchObject({
        action: c.action,
        outcome: c.outcome,
        approvalId: 'appr_1',
        toolName: 'issue_refund',
      });
      if ('approver' in c)
        expect(row.metadata).toMatchObject({ approverId: 'manager_carol', approverType: 'user' });
    }
  });

  it('refuses an approval decision without an approver and records nothing', async () => {
    const before = pipeline.exported().length;
    expect(() => recordApproval({ status: 'approved', approvalId: 'appr_x' })).toThrow(
      /requires approver/,
    );
    expect(() => recordApproval({ status: 'rejected', approvalId: 'appr_x' })).toThrow(TypeError);
    expect(pipeline.exported().length).toBe(before);
  });

  it('records queued, completed and failed tasks', async () => {
    const queued = recordTaskQueued({ taskId: 'task_1', taskName: 'send_email', actor: alice });
    const completed = await traceTask(
      { taskId: 'task_1', taskName: 'send_email', actor: alice },
      (span) => span.spanContext(),
    );
    let failedIds: { traceId: string; spanId: string } | undefined;
    await traceTask({ taskId: 'task_2', actor: alice }, (span) => {
      failedIds = span.spanContext();
      throw new Error('quota exceeded');
    }).catch(() => {});
    expect((await rowFor(queued.eventId)).action).toBe(AI_AUDIT_ACTIONS.TASK_QUEUED);
    const done = await rowFor(`${completed.traceId}:${completed.spanId}`);
    expect(done).toMatchObject({
      action: AI_AUDIT_ACTIONS.TASK_COMPLETED,
      outcome: 'success',
      taskId: 'task_1',
    });
    const ids = failedIds as { traceId: string; spanId: string };
    const failed = await rowFor(`${ids.traceId}:${ids.spanId}`);
    expect(failed).toMatchObject({
      action: AI_AUDIT_ACTIONS.TASK_FAILED,
      outcome: 'failure',
      taskId: 'task_2',
    });
  });

  it('records rate-limit and budget events as denied with their figures', async () => {
    const limited = recordRateLimited({
      limitKey: 'tenant:acme',
      limit: 60,
      windowMs: 60_000,
      retryAfterMs: 5_000,
      actor: alice,
    });
    const budget = recordBudgetExceeded({
      budgetUsed: 51.5,
      budgetLimit: 50,
      unit: 'usd',
      actor: alice,
    });
    const limitedRow = await rowFor(limited.eventId);
    expect(limitedRow).toMatchObject({ action: AI_AUDIT_ACTIONS.RATE_LIMITED, outcome: 'denied' });
    expect(limitedRow.metadata).toMatchObject({
      rateLimitKey: 'tenant:acme',
      rateLimit: 60,
      rateLimitWindowMs: 60_000,
      retryAfterMs: 5_000,
    });
    const budgetRow = await rowFor(budget.eventId);
    expect(budgetRow).toMatchObject({
      action: AI_AUDIT_ACTIONS.BUDGET_EXCEEDED,
      outcome: 'denied',
    });
    expect(budgetRow.metadata).toMatchObject({
      budgetUsed: 51.5,
      budgetLimit: 50,
      budgetUnit: 'usd',
    });
  });

  it("records the app's own actions with recordAuditEvent, metadata redacted", async () => {
    const ref = recordAuditEvent({
      action: 'billing.refund_issued',
      resourceType: 'order',
      resourceId: 'ORD-2026-1',
      actor: { type: 'service', id: 'billing-worker' },
      tenantId: 'acme',
      metadata: { amount: 129, apiKey: 'sk-proj-abcdefghijklmnopqrstuvwx' },
    });
    const row = await rowFor(ref.eventId);
    expect(row).toMatchObject({
      action: 'billing.refund_issued',
      outcome: 'success',
      resourceType: 'order',
      resourceId: 'ORD-2026-1',
      actorType: 'service',
    });
    expect(row.metadata.amount).toBe(129);
    expect(JSON.stringify(row.metadata)).not.toContain('sk-proj-abcdefghijklmnopqrstuvwx');
  });

  it('processing the same span twice yields one row', async () => {
    const ref = recordAuditEvent({ action: 'test.idempotent', actor: alice });
    await pipeline.flush();
    const span = pipeline
      .exported('test.idempotent')
      .find((s) => s.spanContext().spanId === ref.spanId);
    expect(span).toBeDefined();
    pipeline.processor.onEnd(span as never);
    pipeline.processor.onEnd(span as never);
    await pipeline.flush();
    const rows = await queryAuditLogs(db.store, {
      traceId: ref.traceId,
      action: 'test.idempotent',
    });
    expect(rows.map((r) => r.eventId)).toEqual([ref.eventId]);
  });

  it('propagates actor and tenant across await, Promise.all and timers into third-party spans', async () => {
    const thirdParty = trace.getTracer('some-http-client');
    const refs = await withAuditContext(
      { tenantId: 'globex', actor: { type: 'user', id: 'user_bob' } },
      async () => {
        await new Promise((r) => setTimeout(r, 5));
        const inTimer = await new Promise<ReturnType<typeof recordAuditEvent>>((resolve) =>
          setTimeout(() => {
            thirdParty.startSpan('GET /inventory').end();
            resolve(recordAuditEvent({ action: 'test.in_timer' }));
          }, 5),
        );
        const parallel = await Promise.all(
          [1, 2, 3].map(async (i) => {
            await Promise.resolve();
            thirdParty.startSpan(`POST /items/${i}`).end();
            return recordAuditEvent({ action: 'test.in_parallel' });
          }),
        );
        return [inTimer, ...parallel];
      },
    );
    for (const ref of refs) {
      const row = await rowFor(ref.eventId);
      expect(row).toMatchObject({ actorId: 'user_bob', actorType: 'user', tenantId: 'globex' });
    }
    const stamped = pipeline
      .exported()
      .filter((s) => s.instrumentationScope.name === 'some-http-client');
    expect(stamped).toHaveLength(4);
    for (const span of stamped) {
      expect(span.attributes).toMatchObject({
        'audit.actor.id': 'user_bob',
        'audit.actor.type': 'user',
        'audit.tenant.id': 'globex',
      });
    }
  });

  it('an explicit actor wins over the audit context', async () => {
    const ref = withAuditContext({ tenantId: 'acme', actor: alice }, () =>
      recordAuditEvent({
        action: 'test.explicit_actor',
        actor: { type: 'system', id: 'scheduler' },
      }),
    );
    const row = await rowFor(ref.eventId);
    expect(row).toMatchObject({ actorType: 'system', actorId: 'scheduler', tenantId: 'acme' });
  });

  it('turns a span event carrying audit.action into a record keyed by its index', async () => {
    const ids = withAuditContext({ actor: alice }, () => {
      const span = trace.getTracer('app').startSpan('handle request');
      span.addEvent('note');
      span.addEvent('permission checked', {
        'audit.action': 'auth.permission_checked',
        'audit.outcome': 'denied',
      });
      span.end();
      return span.spanContext();
    });
    const row = await rowFor(`${ids.traceId}:${ids.spanId}:1`);
    expect(row).toMatchObject({
      action: 'auth.permission_checked',
      outcome: 'denied',
      actorId: 'user_alice',
      spanId: ids.spanId,
    });
    const spanRows = await queryAuditLogs(db.store, { traceId: ids.traceId });
    expect(spanRows.map((r) => r.eventId)).toEqual([`${ids.traceId}:${ids.spanId}:1`]);
  });

  it('rejects unknown and missing helper options with a TypeError naming them', () => {
    expect(() => traceToolCall({ toolName: 'x', tool: 'y' } as never, () => 1)).toThrow(
      /unknown option "tool"/,
    );
    expect(() => traceToolCall({} as never, () => 1)).toThrow(/toolName is required/);
    expect(() => traceChat({ model: '' }, () => 1)).toThrow(/model is required/);
    expect(() => recordRateLimited({ limitKey: 'k', limit: 1 } as never)).toThrow(
      /windowMs is required/,
    );
    expect(() => recordAuditEvent({ action: 'Not An Action' })).toThrow(/namespaced lowercase/);
    expect(() => withAuditContext({ actor: { type: 'robot', id: 'r' } } as never, () => 1)).toThrow(
      /actor.type must be one of/,
    );
  });
});

describe('sampling never loses an audit record', () => {
  let db: TestStore;
  let pipeline: TestPipeline;

  beforeAll(async () => {
    db = await openTestStore('pglite');
    pipeline = startTestPipeline(db.store, { sampler: new TraceIdRatioBasedSampler(0) });
  });

  afterAll(async () => {
    await pipeline?.close();
    await db?.close();
  });

  it('records every audit action under a 0% ratio sampler while ordinary spans are dropped', async () => {
    const refs = await withAuditContext({ tenantId: 'acme', actor: alice }, async () => {
      const parent = trace.getTracer('app').startSpan('ordinary request');
      const out = [
        recordHandoff({ fromAgent: 'a', toAgent: 'b' }),
        recordApproval({ status: 'created', approvalId: 'p' }),
        recordTaskQueued({ taskId: 't' }),
        recordRateLimited({ limitKey: 'k', limit: 1, windowMs: 1 }),
        recordBudgetExceeded({ budgetUsed: 2, budgetLimit: 1 }),
      ];
      const tool = await traceToolCall({ toolName: 'search' }, (span) => span.spanContext());
      const chat = await traceChat({ model: 'm' }, (chat) => chat.span.spanContext());
      parent.end();
      return [
        ...out.map((r) => r.eventId),
        `${tool.traceId}:${tool.spanId}`,
        `${chat.traceId}:${chat.spanId}`,
      ];
    });
    await pipeline.flush();
    const rows = await queryAuditLogs(db.store, { limit: 1000 });
    expect(rows.map((r) => r.eventId).sort()).toEqual([...refs].sort());
    expect(pipeline.exported('ordinary request')).toHaveLength(0);
  });
});

describe('AuditSampler with its default delegate', () => {
  const sampler = new AuditSampler();
  const decide = (parentSampled: boolean | undefined, name: string, attributes: Attributes) => {
    const parent =
      parentSampled === undefined
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, {
            traceId: '0af7651916cd43dd8448eb211c80319c',
            spanId: 'b7ad6b7169203331',
            traceFlags: parentSampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
            isRemote: true,
          });
    return sampler.shouldSample(
      parent,
      '0af7651916cd43dd8448eb211c80319c',
      name,
      SpanKind.INTERNAL,
      attributes,
      [],
    ).decision;
  };

  it('samples roots and children of sampled parents, audit or not', () => {
    expect(decide(undefined, 'GET /', {})).toBe(SamplingDecision.RECORD_AND_SAMPLED);
    expect(decide(true, 'SELECT', {})).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('keeps audit and recognised spans under a parent that was not sampled, and drops the rest', () => {
    expect(decide(false, 'x', { 'audit.action': 'app.x' })).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(decide(false, 'chat', { 'gen_ai.operation.name': 'chat' })).toBe(
      SamplingDecision.RECORD_AND_SAMPLED,
    );
    expect(decide(false, 'SELECT', {})).toBe(SamplingDecision.NOT_RECORD);
  });

  it('samples a span whose parent context is invalid, as it samples a root', () => {
    const invalidParent = trace.setSpanContext(ROOT_CONTEXT, INVALID_SPAN_CONTEXT);
    expect(
      sampler.shouldSample(
        invalidParent,
        '0af7651916cd43dd8448eb211c80319c',
        'GET /',
        SpanKind.SERVER,
        {},
        [],
      ).decision,
    ).toBe(SamplingDecision.RECORD_AND_SAMPLED);
  });
});

describe.each([false, true])(
  'span events in unsampled traces (recordUnsampledSpans: %s)',
  (recordUnsampledSpans) => {
    let db: TestStore;
    let pipeline: TestPipeline;

    beforeAll(async () => {
      db = await openTestStore('pglite');
      pipeline = startTestPipeline(db.store, {
        sampler: new TraceIdRatioBasedSampler(0),
        recordUnsampledSpans,
      });
    });

    afterAll(async () => {
      await pipeline?.close();
      await db?.close();
    });

    it(
      recordUnsampledSpans
        ? 'are audited, and the span is still not exported'
        : 'are not audited (declare audit.action at start)',
      async () => {
        const span = trace.getTracer('app').startSpan('handle request');
        span.addEvent('permission checked', { 'audit.action': 'auth.permission_checked' });
        span.end();
        await pipeline.flush();
        const rows = await queryAuditLogs(db.store, { action: 'auth.permission_checked' });
        expect(rows).toHaveLength(recordUnsampledSpans ? 1 : 0);
        expect(pipeline.exported('handle request')).toHaveLength(0);
      },
    );
  },
);
