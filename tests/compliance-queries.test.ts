import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  recordApproval,
  recordBudgetExceeded,
  recordHandoff,
  recordRateLimited,
  traceChat,
  traceToolCall,
  withAuditContext,
} from '../src/index.js';
import type { AuditRecord } from '../src/store/audit-record.js';
import type { AuditStore } from '../src/store/audit-store.js';
import { openAuditStore } from '../src/store/open-store.js';
import { listApprovals, summarizeApprovals } from '../src/store/queries/approvals.js';
import { explainDecisions } from '../src/store/queries/explain.js';
import { countAuditEvents } from '../src/store/queries/stats.js';
import { queryAuditLogs } from '../src/store/queries.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { runCli } from './support/cli.js';
import { startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { testDatabaseUrl } from './support/postgres.js';
import { makeRecord } from './support/records.js';

const TENANTS = ['acme', 'globex', 'initech'] as const;
const ACTIONS = [
  'ai.tool_call',
  'ai.chat_message',
  'ai.rate_limited',
  'ai.budget_exceeded',
] as const;
const DAY = 86_400_000;
/** Monday 2026-10-05 00:00 UTC: five whole weeks of backfill follow. */
const START = Date.UTC(2026, 9, 5);
const NOW = Date.UTC(2026, 10, 9, 12);

function at(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

/** Several tenants, users, approvers and five weeks of history on real Postgres. */
describe('compliance queries', () => {
  let databaseUrl: string;
  let store: AuditStore;
  let pipeline: TestPipeline;
  const backfill: AuditRecord[] = [];
  let toolCallEventId = '';

  beforeAll(async () => {
    databaseUrl = await testDatabaseUrl();
    store = await openAuditStore({ databaseUrl });
    const writer = new AuditWriter({ store, journalDir: null, serviceName: 'backfill' });
    for (let i = 0; i < 700; i++) {
      const action = ACTIONS[i % ACTIONS.length] as string;
      const record = makeRecord(i, {
        occurredAt: at(START + (i * 35 * DAY) / 700),
        tenantId: TENANTS[i % 3] as string,
        actorId: `user_${i % 5}`,
        action,
        outcome:
          action === 'ai.tool_call'
            ? i % 7 === 0
              ? 'failure'
              : 'success'
            : action === 'ai.chat_message'
              ? 'success'
              : 'denied',
        toolName: action === 'ai.tool_call' ? (i % 2 ? 'refund' : 'lookup_order') : null,
        serviceName: 'backfill',
        metadata:
          action === 'ai.rate_limited'
            ? { rateLimitKey: 'per-user', stoppedTool: 'refund', stoppedAction: 'ai.tool_call' }
            : { source: 'test' },
      });
      backfill.push(record);
      writer.enqueue(record);
    }
    // Approvals decided by several approvers, one left undecided for days, one expired.
    const approval = (id: string, action: string, ms: number, extra: Partial<AuditRecord> = {}) =>
      writer.enqueue(
        makeRecord(0, {
          action,
          approvalId: id,
          occurredAt: at(ms),
          toolName: 'refund',
          outcome:
            action === 'ai.approval_rejected' || action === 'ai.approval_expired'
              ? 'denied'
              : 'success',
          serviceName: 'backfill-approvals',
          ...extra,
        }),
      );
    const t0 = START + 10 * DAY;
    approval('apr-b1', 'ai.approval_created', t0, {
      tenantId: 'globex',
      metadata: { approverGroup: 'legal' },
    });
    approval('apr-b1', 'ai.approval_approved', t0 + 2 * 3_600_000, {
      tenantId: 'globex',
      metadata: { approverId: 'dave', approverType: 'user' },
    });
    approval('apr-b2', 'ai.approval_created', t0, {
      tenantId: 'initech',
      metadata: { approverGroup: 'legal' },
    });
    approval('apr-b2', 'ai.approval_rejected', t0 + 30 * 60_000, {
      tenantId: 'initech',
      metadata: { approverId: 'erin', approverType: 'user', reason: 'too large' },
    });
    approval('apr-b3', 'ai.approval_created', NOW - 3 * DAY, {
      tenantId: 'globex',
      metadata: { approverGroup: 'finance' },
    });
    approval('apr-b4', 'ai.approval_created', t0, {
      tenantId: 'acme',
      metadata: { approverGroup: 'finance' },
    });
    approval('apr-b4', 'ai.approval_expired', t0 + DAY, { tenantId: 'acme' });
    await writer.shutdown();

    // One conversation through the real helpers and pipeline.
    pipeline = startTestPipeline(store);
    await withAuditContext(
      { tenantId: 'acme', actor: { type: 'user', id: 'alice' }, conversationId: 'conv-explain' },
      async () => {
        await traceChat(
          { model: 'gpt-5', provider: 'openai', content: 'refund my order' },
          async () => 'ok',
        );
        recordApproval({
          status: 'created',
          approvalId: 'apr-1',
          toolName: 'refund',
          params: { amount: 10 },
          approverGroup: 'finance',
          assignee: 'bob',
        });
        recordApproval({
          status: 'approved',
          approvalId: 'apr-1',
          toolName: 'refund',
          approver: { type: 'user', id: 'carol' },
        });
        const ref = await traceToolCall(
          {
            toolName: 'refund',
            params: { amount: 10, password: 'hunter2' },
            approvalId: 'apr-1',
            agentName: 'billing',
          },
          async (span) => {
            toolCallEventId = `${span.spanContext().traceId}:${span.spanContext().spanId}`;
            return { refundId: 'r-1', apiKey: 'sk-live-abcdefghijklmnopqrstuvwx' };
          },
        );
        expect(ref.refundId).toBe('r-1');
        recordHandoff({
          fromAgent: 'billing',
          toAgent: 'support',
          reason: 'customer asked for a human',
        });
        recordBudgetExceeded({
          budgetUsed: 12,
          budgetLimit: 10,
          unit: 'usd',
          budgetKey: 'tenant:acme:daily',
          stoppedTool: 'refund',
        });
        recordRateLimited({
          limitKey: 'per-user',
          limit: 5,
          windowMs: 60_000,
          stoppedAction: 'ai.chat_message',
        });
      },
    );
    await pipeline.flush();
    await pipeline.processor.forceFlush();
  }, 120_000);

  afterAll(async () => {
    await pipeline?.close();
    await store?.close();
  });

  it('counts rows per tenant, action and week exactly as written', async () => {
    const rows = await countAuditEvents(store, {
      by: ['tenant', 'action'],
      bucket: 'week',
      filter: { serviceName: 'backfill' },
    });
    const expected = new Map<string, number>();
    for (const r of backfill) {
      const d = new Date(r.occurredAt);
      const monday = Date.UTC(
        d.getUTCFullYear(),
        d.getUTCMonth(),
        d.getUTCDate() - ((d.getUTCDay() + 6) % 7),
      );
      const key = `${new Date(monday).toISOString().slice(0, 10)}|${r.tenantId}|${r.action}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const got = new Map(
      rows.map((r) => [`${r.bucket?.slice(0, 10)}|${r.tenant}|${r.action}`, r.count]),
    );
    expect(got).toEqual(expected);
    expect(new Set(rows.map((r) => r.bucket)).size).toBe(5);
  });

  it("counts rows per actor by the vault's values, and filters by actor through it", async () => {
    const rows = await countAuditEvents(store, {
      by: ['actor'],
      filter: { serviceName: 'backfill' },
    });
    const expected = new Map<string, number>();
    for (const r of backfill)
      expected.set(`user:${r.actorId}`, (expected.get(`user:${r.actorId}`) ?? 0) + 1);
    expect(new Map(rows.map((r) => [r.actor, r.count]))).toEqual(expected);
    const [one] = await countAuditEvents(store, {
      filter: { serviceName: 'backfill', actorId: 'user_3' },
    });
    expect(one?.count).toBe(backfill.filter((r) => r.actorId === 'user_3').length);
  });

  it('counts what rate limits stopped per tenant for a period', async () => {
    const rows = await countAuditEvents(store, {
      by: ['tenant', 'outcome'],
      filter: {
        action: 'ai.rate_limited',
        serviceName: 'backfill',
        since: '2026-10-12T00:00:00Z',
        before: '2026-10-19T00:00:00Z',
      },
    });
    const inWeek = backfill.filter(
      (r) =>
        r.action === 'ai.rate_limited' &&
        r.occurredAt >= '2026-10-12' &&
        r.occurredAt < '2026-10-19',
    );
    for (const tenant of TENANTS) {
      expect(rows.find((r) => r.tenant === tenant)?.count ?? 0).toBe(
        inWeek.filter((r) => r.tenantId === tenant).length,
      );
    }
  });

  it('lists approvals with status, approver, group, gated call and time to decision', async () => {
    const requests = await listApprovals(store, { overdueAfterMs: DAY, now: new Date(NOW) });
    const byId = new Map(requests.map((r) => [r.approvalId, r]));
    expect(byId.get('apr-b1')).toMatchObject({
      status: 'approved',
      approver: 'user:dave',
      approverGroup: 'legal',
      tenantId: 'globex',
      timeToDecisionMs: 2 * 3_600_000,
    });
    expect(byId.get('apr-b2')).toMatchObject({
      status: 'rejected',
      approver: 'user:erin',
      reason: 'too large',
      timeToDecisionMs: 1_800_000,
    });
    expect(byId.get('apr-b3')?.status).toBe('overdue');
    expect(byId.get('apr-b4')?.status).toBe('expired');
    expect(byId.get('apr-1')).toMatchObject({
      status: 'approved',
      approver: 'user:carol',
      approverGroup: 'finance',
      assignee: 'bob',
      toolName: 'refund',
    });
    expect(byId.get('apr-1')?.gatedCall?.eventId).toBe(toolCallEventId);
    const byGroup = summarizeApprovals(requests, 'group');
    expect(byGroup.find((g) => g.key === 'legal')).toMatchObject({
      total: 2,
      approved: 1,
      rejected: 1,
      medianDecisionMs: 1_800_000,
    });
    expect(byGroup.find((g) => g.key === 'finance')).toMatchObject({
      total: 3,
      approved: 1,
      overdue: 1,
      expired: 1,
      linkedCalls: 1,
    });
  });

  it('explains a conversation in order, with the sanitized result and the call the approval gated', async () => {
    const explanation = await explainDecisions(store, { conversationId: 'conv-explain' });
    expect(explanation.steps.map((s) => s.kind)).toEqual([
      'message',
      'approval',
      'approval',
      'tool_call',
      'handoff',
      'budget_stop',
      'rate_limit_stop',
    ]);
    const [message, , approved, call, handoff, budget] = explanation.steps;
    expect(message).toMatchObject({ model: 'gpt-5', provider: 'openai', actor: 'user:alice' });
    expect(approved?.approval).toMatchObject({
      status: 'approved',
      approver: 'user:carol',
      gatedCallEventId: toolCallEventId,
    });
    expect(call?.result).toMatchObject({ refundId: 'r-1' });
    expect(JSON.stringify(call)).not.toContain('sk-live-abcdefghijklmnopqrstuvwx');
    expect(JSON.stringify(call)).not.toContain('hunter2');
    expect(handoff?.handoff).toEqual({
      from: 'billing',
      to: 'support',
      reason: 'customer asked for a human',
    });
    expect(budget?.summary).toContain('tenant:acme:daily');
    expect(budget?.summary).toContain('refund');
  });

  it('stores microsecond start times for helper records', async () => {
    const rows = await queryAuditLogs(store, { conversationId: 'conv-explain', limit: 100 });
    expect(rows.some((r) => !r.occurredAt.endsWith('000Z'))).toBe(true);
  });

  it('records every read as an audit.read row naming the query, filter and row count', async () => {
    await explainDecisions(store, { conversationId: 'conv-explain', reader: 'user:auditor' });
    const reads = await queryAuditLogs(store, { action: 'audit.read', actorId: 'user:auditor' });
    expect(reads).toHaveLength(1);
    expect(reads[0]?.metadata).toMatchObject({
      query: 'explain',
      filter: { conversationId: 'conv-explain' },
      rows: 7,
      databaseRole: expect.any(String),
    });
    const all = await queryAuditLogs(store, { action: 'audit.read', limit: 1000 });
    expect(all.map((r) => r.metadata.query)).toEqual(
      expect.arrayContaining(['stats', 'approvals', 'explain']),
    );
  });

  it('aitrail stats, approvals and explain answer on the command line', async () => {
    const env = { DATABASE_URL: databaseUrl, AITRAIL_READER: 'user:cli-auditor' };
    const stats = await runCli(['stats', '--by', 'tenant', '--service', 'backfill', '-o', 'json'], {
      env,
    });
    expect(stats.stderr).toBe('');
    expect(JSON.parse(stats.stdout)).toEqual(
      TENANTS.map((t) => ({ tenant: t, count: backfill.filter((r) => r.tenantId === t).length })),
    );
    const approvals = await runCli(['approvals', '--group-by', 'tenant', '-o', 'json'], { env });
    expect(approvals.code).toBe(0);
    const groups = JSON.parse(approvals.stdout) as Array<{ key: string; total: number }>;
    expect(groups.find((g) => g.key === 'globex')?.total).toBe(2);
    const md = await runCli(['explain', '--conversation', 'conv-explain', '-o', 'md'], { env });
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/^# Decision timeline: conversationId `conv-explain`/);
    expect(md.stdout).toContain('| 4 |');
    expect(md.stdout).toContain('handed off billing → support: customer asked for a human');
    const bad = await runCli(['stats', '--by', 'tenant,colour'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'aitrail: --by takes tenant, action, outcome, tool, agent, actor; got "colour"\n',
    );
    const reads = await runCli(
      ['logs', '--action', 'audit.read', '--actor', 'user:cli-auditor', '-o', 'json'],
      { env },
    );
    expect(
      (JSON.parse(reads.stdout) as Array<{ metadata: { query: string } }>)
        .map((r) => r.metadata.query)
        .sort(),
    ).toEqual(['approvals', 'explain', 'stats']);
  }, 120_000);
});
