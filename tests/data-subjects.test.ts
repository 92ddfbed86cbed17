import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditLogEntry, queryAuditLogs } from '../src/entries/store.js';
import { recordApproval, recordAuditEvent, traceToolCall, withAuditContext } from '../src/index.js';
import { verifyAuditChains } from '../src/store/verify/index.js';
import { startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { BACKENDS, openTestStore, type TestStore } from './support/stores.js';

const alice = { type: 'user', id: 'user_alice' } as const;
const manager = { type: 'user', id: 'user_manager' } as const;
const bot = { type: 'agent', id: 'agent_refunds' } as const;

describe.each(BACKENDS)('data subjects on %s', (backend) => {
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
    const rows = await queryAuditLogs(db.store, { traceId: eventId.slice(0, 32), limit: 1000 });
    const row = rows.find((r) => r.eventId === eventId);
    if (!row) throw new Error(`no audit row with event_id ${eventId}`);
    return row;
  }

  it('defaults the subject to the actor when the actor is a user', async () => {
    const ref = withAuditContext({ tenantId: 'acme', actor: alice }, () =>
      recordAuditEvent({ action: 'user.profile_viewed' }),
    );
    expect((await rowFor(ref.eventId)).subjectId).toBe('user_alice');
  });

  it('has no subject when a non-user acts and none is named', async () => {
    const ref = withAuditContext({ tenantId: 'acme', actor: bot }, () =>
      recordAuditEvent({ action: 'billing.refund_issued' }),
    );
    expect((await rowFor(ref.eventId)).subjectId).toBeNull();
  });

  it("records a manager's approval as being about the user named by withAuditContext({ subject })", async () => {
    const ref = withAuditContext({ tenantId: 'acme', actor: manager, subject: 'user_alice' }, () =>
      recordApproval({ status: 'approved', approver: manager, approvalId: 'appr_1' }),
    );
    const row = await rowFor(ref.eventId);
    expect(row.actorId).toBe('user_manager');
    expect(row.subjectId).toBe('user_alice');
  });

  it('lets a helper option name the subject, over the context', async () => {
    const ref = withAuditContext({ tenantId: 'acme', actor: bot, subject: 'user_alice' }, () =>
      recordAuditEvent({ action: 'user.email_sent', subject: 'user_bob' }),
    );
    expect((await rowFor(ref.eventId)).subjectId).toBe('user_bob');
  });

  it('stamps subject and conversation on third-party spans started inside the context', async () => {
    const traceId = withAuditContext(
      { tenantId: 'acme', actor: bot, subject: 'user_carol', conversationId: 'conv_ctx' },
      () => {
        const span = trace.getTracer('third-party').startSpan('lookup', {
          attributes: { 'audit.action': 'app.lookup' },
        });
        span.end();
        return span.spanContext().traceId;
      },
    );
    await pipeline.flush();
    const [row] = await queryAuditLogs(db.store, { traceId });
    expect(row?.subjectId).toBe('user_carol');
    expect(row?.conversationId).toBe('conv_ctx');
  });

  it('finds every row about a subject, whoever acted', async () => {
    await withAuditContext({ tenantId: 'globex', actor: manager, subject: 'user_dave' }, () =>
      traceToolCall({ toolName: 'refund', params: { orderId: 'ORD-9' } }, async () => 'ok'),
    );
    withAuditContext({ tenantId: 'globex', actor: { type: 'user', id: 'user_dave' } }, () =>
      recordAuditEvent({ action: 'user.refund_requested' }),
    );
    await pipeline.flush();
    const rows = await queryAuditLogs(db.store, { subjectId: 'user_dave' });
    expect(rows.map((r) => r.action).sort()).toEqual(['ai.tool_call', 'user.refund_requested']);
    expect((await queryAuditLogs(db.store, { actorId: 'user_dave' })).length).toBe(1);
  });

  it('hashes the subject: the chains verify with subjects in them', async () => {
    await pipeline.flush();
    const report = await verifyAuditChains(db.store);
    expect(report.ok).toBe(true);
    expect(report.rowsChecked).toBeGreaterThan(5);
  });

  it('rejects a subject that is not a non-empty string', () => {
    expect(() =>
      withAuditContext({ actor: alice, subject: 42 as unknown as string }, () => 0),
    ).toThrow(/withAuditContext: subject/);
    expect(() => recordAuditEvent({ action: 'x.y', subject: '' })).toThrow(
      /recordAuditEvent: subject/,
    );
  });
});
