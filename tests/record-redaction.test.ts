import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { queryAuditLogs } from '../src/entries/store.js';
import {
  type CaptureContent,
  initAuditTelemetry,
  recordApproval,
  recordBudgetExceeded,
  recordRateLimited,
  recordTaskQueued,
  traceChat,
  traceToolCall,
  withAuditContext,
} from '../src/index.js';
import { scratchDir } from './support/stores.js';

const EMAIL = 'alice.smith@example.com';
const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD';
const IP = '81.2.69.7';

async function withTelemetry<T>(captureContent: CaptureContent | undefined, fn: () => Promise<T>) {
  const telemetry = await initAuditTelemetry({
    serviceName: 'redaction-test',
    dataDir: scratchDir(),
    handleSignals: false,
    ...(captureContent ? { captureContent } : {}),
  });
  try {
    await fn();
    await telemetry.flush();
    const dump = await telemetry.store.query<{ row: string }>(
      'select t::text as row from audit_logs t',
    );
    const rows = await queryAuditLogs(telemetry.store, { limit: 1000 });
    return { text: dump.map((d) => d.row).join('\n'), rows };
  } finally {
    await telemetry.shutdown();
  }
}

describe('what reaches audit_logs', () => {
  it('redacts every free-text field, identifier column, action and tracer name, keeping only the actor and tenant as given', async () => {
    const { text, rows } = await withTelemetry(undefined, () =>
      withAuditContext(
        { tenantId: 'acme', actor: { type: 'user', id: 'user_alice' } },
        async () => {
          recordTaskQueued({
            taskId: `task-${EMAIL}`,
            taskName: `send mail to ${EMAIL}`,
            conversationId: `conv ${EMAIL}`,
            agentName: `agent ${KEY}`,
          });
          recordRateLimited({ limitKey: `ip:${IP} ${EMAIL}`, limit: 5, windowMs: 1000 });
          recordApproval({
            status: 'created',
            approvalId: `appr ${EMAIL}`,
            toolName: `send_${EMAIL}`,
          });
          recordBudgetExceeded({ budgetUsed: 2, budgetLimit: 1, unit: EMAIL });
          await traceToolCall({ toolName: `tool\u0000with-nul ${KEY}` }, async () => 1);
          const span = trace.getTracer('plain').startSpan(`GET /users/${EMAIL}`, {
            attributes: {
              'audit.action': 'user.profile_viewed',
              'audit.resource.type': `user ${EMAIL}`,
            },
          });
          span.end();
          // Any span may carry `audit.action`, and a library names its own tracer.
          trace
            .getTracer(`vendor-sdk ${KEY}`)
            .startSpan('vendor.refund', { attributes: { 'audit.action': `refund ${KEY}` } })
            .end();
        },
      ),
    );
    expect(rows).toHaveLength(7);
    expect(rows.find((r) => r.metadata.spanName === 'vendor.refund')).toMatchObject({
      action: 'refund [REDACTED:openai_api_key]',
      metadata: { source: 'vendor-sdk [REDACTED:openai_api_key]' },
    });
    for (const planted of [EMAIL, KEY, IP, '\\u0000']) expect(text).not.toContain(planted);
    expect(rows.every((r) => r.actorId === 'user_alice' && r.tenantId === 'acme')).toBe(true);
    expect(rows.find((r) => r.action === 'user.profile_viewed')?.metadata.spanName).toBe(
      'GET /users/[REDACTED:email]',
    );
  });

  it.each([
    ['none', false, false],
    ['redacted', false, false],
    ['full', true, false],
  ] as const)(
    'captureContent %s: personal data kept %s, secrets kept %s',
    async (mode, keepsEmail, keepsKey) => {
      const { rows } = await withTelemetry(mode, () =>
        traceChat({ model: 'm', content: `mail ${EMAIL} with key ${KEY}` }, (chat) => {
          chat.setCompletion(`done for ${EMAIL}`);
        }),
      );
      const chat = rows.find((r) => r.action === 'ai.chat_message');
      const stored = JSON.stringify(chat?.metadata ?? {});
      if (mode === 'none') {
        expect(chat?.metadata.content).toBeUndefined();
        expect(chat?.metadata.completion).toBeUndefined();
      } else {
        expect(stored).toContain('mail ');
      }
      expect(stored.includes(EMAIL)).toBe(keepsEmail);
      expect(stored.includes(KEY)).toBe(keepsKey);
    },
  );
});
