import { type Attributes, SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditLogEntry, queryAuditLogs } from '../src/entries/store.js';
import {
  AI_AUDIT_ACTIONS,
  recordEvaluation,
  recordGuardrail,
  withAuditContext,
} from '../src/index.js';
import { startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { openTestStore, type TestStore } from './support/stores.js';

const alice = { type: 'user', id: 'user_alice' } as const;

describe('guardrails and evaluations as audit actions', () => {
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

  async function rowsOf(fn: () => void): Promise<AuditLogEntry[]> {
    const traceId = withAuditContext({ tenantId: 'acme', actor: alice }, () =>
      trace.getTracer('app').startActiveSpan('POST /chat', (span) => {
        fn();
        span.end();
        return span.spanContext().traceId;
      }),
    );
    await pipeline.flush();
    return queryAuditLogs(db.store, { traceId, order: 'asc', limit: 100 });
  }

  /** A span as a third-party instrumentation following the GenAI conventions makes it. */
  function thirdPartySpan(
    name: string,
    attributes: Attributes,
    events: [string, Attributes][] = [],
  ) {
    const span = trace
      .getTracer('guard-lib')
      .startSpan(name, { kind: SpanKind.INTERNAL, attributes });
    for (const [eventName, eventAttributes] of events) span.addEvent(eventName, eventAttributes);
    span.end();
  }

  it('recordGuardrail keeps the verdict as the guardrail gave it, with actor, resource and a redacted reason', async () => {
    const rows = await rowsOf(() =>
      recordGuardrail({
        name: 'pii-filter',
        decision: 'block',
        targetType: 'llm_input',
        reason: 'input had card 4111 1111 1111 1111',
      }),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: AI_AUDIT_ACTIONS.GUARDRAIL_TRIGGERED,
      actorId: 'user_alice',
      tenantId: 'acme',
      resourceType: 'guardrail',
      resourceId: 'pii-filter',
    });
    expect(rows[0]?.metadata).toMatchObject({
      source: 'aitrail',
      guardrailName: 'pii-filter',
      guardrailDecision: 'block',
      guardrailTargetType: 'llm_input',
    });
    expect(JSON.stringify(rows)).not.toContain('4111 1111 1111 1111');
  });

  it('recordEvaluation records the score and label as given', async () => {
    const rows = await rowsOf(() =>
      recordEvaluation({
        name: 'relevance',
        scoreValue: 0.82,
        scoreLabel: 'relevant',
        responseId: 'resp-1',
      }),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: AI_AUDIT_ACTIONS.EVALUATION_RECORDED,
      actorId: 'user_alice',
      resourceType: 'evaluation',
      resourceId: 'relevance',
    });
    expect(rows[0]?.metadata).toMatchObject({
      evaluationName: 'relevance',
      evaluationScoreValue: 0.82,
      evaluationScoreLabel: 'relevant',
      responseId: 'resp-1',
    });
  });

  it('records apply_guardrail spans of the current and the earlier convention drafts with their own verdicts', async () => {
    const rows = await rowsOf(() => {
      thirdPartySpan('apply_guardrail Prompt Shield', {
        'gen_ai.operation.name': 'apply_guardrail',
        'gen_ai.guardrail.name': 'Prompt Shield',
        'gen_ai.guardrail.decision': 'deny',
        'gen_ai.guardrail.target.type': 'llm_input',
      });
      thirdPartySpan('apply_guardrail Model Armor', {
        'gen_ai.operation.name': 'apply_guardrail',
        'gen_ai.guardian.name': 'Model Armor',
        'gen_ai.security.decision.type': 'warn',
        'gen_ai.security.target.type': 'tool_call',
        'gen_ai.security.target.id': 'call-7',
      });
    });
    // Both spans may start in the same millisecond (third-party spans carry millisecond start
    // times), so the rows are compared by guardrail, not by their order.
    const verdicts = rows.map((r) => [r.action, r.resourceId, r.metadata.guardrailDecision]);
    expect(verdicts.sort((a, b) => String(a[1]).localeCompare(String(b[1])))).toEqual([
      [AI_AUDIT_ACTIONS.GUARDRAIL_TRIGGERED, 'Model Armor', 'warn'],
      [AI_AUDIT_ACTIONS.GUARDRAIL_TRIGGERED, 'Prompt Shield', 'deny'],
    ]);
    expect(rows.find((r) => r.resourceId === 'Model Armor')?.metadata).toMatchObject({
      source: 'gen-ai',
      guardrailTargetType: 'tool_call',
      guardrailTargetId: 'call-7',
    });
    for (const row of rows)
      expect(row).toMatchObject({ actorId: 'user_alice', outcome: 'success' });
  });

  it('records a gen_ai.evaluation.result event as its own row beside the chat it evaluates', async () => {
    const rows = await rowsOf(() =>
      thirdPartySpan(
        'chat gpt-4o-mini',
        { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o-mini' },
        [
          [
            'gen_ai.evaluation.result',
            {
              'gen_ai.evaluation.name': 'faithfulness',
              'gen_ai.evaluation.score.value': 0.4,
              'gen_ai.evaluation.score.label': 'unfaithful',
              'gen_ai.evaluation.explanation': 'cites an order of bob@example.com',
            },
          ],
        ],
      ),
    );
    expect(rows.map((r) => r.action).sort()).toEqual([
      AI_AUDIT_ACTIONS.CHAT_MESSAGE,
      AI_AUDIT_ACTIONS.EVALUATION_RECORDED,
    ]);
    const evaluation = rows.find((r) => r.action === AI_AUDIT_ACTIONS.EVALUATION_RECORDED);
    expect(evaluation).toMatchObject({ actorId: 'user_alice', resourceId: 'faithfulness' });
    expect(evaluation?.eventId).toMatch(/:0$/);
    expect(evaluation?.metadata).toMatchObject({
      evaluationScoreValue: 0.4,
      evaluationScoreLabel: 'unfaithful',
    });
    expect(JSON.stringify(evaluation)).not.toContain('bob@example.com');
  });

  it('refuses an evaluation without a score or label, and a guardrail without a decision', () => {
    expect(() => recordEvaluation({ name: 'relevance' })).toThrow(/scoreValue, scoreLabel/);
    expect(() => recordGuardrail({ name: 'pii' } as never)).toThrow(/decision/);
  });
});
