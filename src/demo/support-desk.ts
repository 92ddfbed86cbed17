import { SpanKind, trace } from '@opentelemetry/api';
import {
  recordApproval,
  recordAuditEvent,
  recordBudgetExceeded,
  recordEvaluation,
  recordGuardrail,
  recordHandoff,
  recordRateLimited,
  recordTaskQueued,
  traceChat,
  traceTask,
  traceToolCall,
  withAuditContext,
} from '../index.js';

/**
 * A multi-agent support desk for two tenants: a triage agent hands billing questions to a
 * billing agent, which looks orders up, asks a manager before refunding, queues background
 * work, and runs into a rate limit and a budget; a guardrail screens the first message and an
 * evaluator scores a reply. Every one of the AI actions (`AI_AUDIT_ACTIONS`) happens.
 * Customer details and a leaked key are planted on purpose: the rows show them redacted.
 */
export async function runSupportDeskScenario(): Promise<void> {
  await withAuditContext({ tenantId: 'acme', actor: { type: 'user', id: 'user_alice' } }, () =>
    inRequest('POST /support/conversations/conv_acme_0001/messages', acmeRefundConversation),
  );
  await withAuditContext({ tenantId: 'globex', actor: { type: 'user', id: 'user_bob' } }, () =>
    inRequest('POST /support/conversations/conv_globex_0001/messages', globexConversation),
  );
}

/** The app's own request span, so each conversation turn is one trace in Jaeger. */
function inRequest(name: string, fn: () => Promise<void>): Promise<void> {
  return trace
    .getTracer('support-desk')
    .startActiveSpan(name, { kind: SpanKind.SERVER }, async (span) => {
      try {
        await fn();
      } finally {
        span.end();
      }
    });
}

async function acmeRefundConversation(): Promise<void> {
  const conversationId = 'conv_acme_0001';
  await traceChat(
    {
      model: 'gpt-4o-mini',
      provider: 'openai',
      agentName: 'triage',
      conversationId,
      content: 'Hi, I was charged twice for order ORD-2026-000481. My email is alice@example.com',
    },
    async (chat) => {
      chat.setUsage({ inputTokens: 412, outputTokens: 58 });
      chat.setCompletion('Let me hand you to our billing specialist.');
    },
  );
  recordGuardrail({
    name: 'pii_screen',
    decision: 'modify',
    targetType: 'llm_input',
    agentName: 'triage',
    conversationId,
    reason: 'e-mail address in the message (alice@example.com)',
  });
  recordEvaluation({
    name: 'relevance',
    scoreValue: 0.92,
    scoreLabel: 'relevant',
    explanation: 'the reply routes the billing question to billing',
    agentName: 'triage',
    conversationId,
  });
  recordHandoff({
    fromAgent: 'triage',
    toAgent: 'billing',
    conversationId,
    reason: 'billing dispute',
  });

  await traceToolCall(
    {
      toolName: 'lookup_order',
      agentName: 'billing',
      conversationId,
      toolCallId: 'call_01',
      params: { orderId: 'ORD-2026-000481' },
    },
    async () => ({ status: 'charged_twice', amount: 129.0 }),
  );
  await traceToolCall(
    {
      toolName: 'charge_card',
      agentName: 'billing',
      conversationId,
      toolCallId: 'call_02',
      params: { card: '4111 1111 1111 1111', apiKey: 'sk-proj-demo0000000000000000000000' },
    },
    async () => {
      throw new Error('payment gateway timeout (card 4111 1111 1111 1111)');
    },
  ).catch(() => {});

  recordApproval({
    status: 'created',
    approvalId: 'appr_01',
    toolName: 'issue_refund',
    params: { orderId: 'ORD-2026-000481', amount: 129.0 },
    agentName: 'billing',
    conversationId,
  });
  recordApproval({
    status: 'approved',
    approvalId: 'appr_01',
    approver: { type: 'user', id: 'manager_carol' },
    toolName: 'issue_refund',
    agentName: 'billing',
    conversationId,
  });
  await traceToolCall(
    {
      toolName: 'issue_refund',
      agentName: 'billing',
      conversationId,
      toolCallId: 'call_03',
      params: { orderId: 'ORD-2026-000481', amount: 129.0 },
    },
    async () => ({ refundId: 'rf_7781' }),
  );
  recordAuditEvent({
    action: 'billing.refund_issued',
    resourceType: 'order',
    resourceId: 'ORD-2026-000481',
    metadata: { amount: 129.0, currency: 'USD' },
    conversationId,
  });

  recordApproval({
    status: 'created',
    approvalId: 'appr_02',
    toolName: 'close_account',
    agentName: 'billing',
    conversationId,
  });
  recordApproval({
    status: 'rejected',
    approvalId: 'appr_02',
    approver: { type: 'user', id: 'manager_carol' },
    reason: 'customer asked for a refund only',
    toolName: 'close_account',
    agentName: 'billing',
    conversationId,
  });

  recordTaskQueued({
    taskId: 'task_email_01',
    taskName: 'send_refund_confirmation',
    agentName: 'billing',
    conversationId,
  });
  await traceTask(
    {
      taskId: 'task_email_01',
      taskName: 'send_refund_confirmation',
      agentName: 'billing',
      conversationId,
    },
    async () => 'sent',
  );
}

async function globexConversation(): Promise<void> {
  const conversationId = 'conv_globex_0001';
  await traceChat(
    {
      model: 'claude-sonnet-4',
      provider: 'anthropic',
      agentName: 'triage',
      conversationId,
      content: 'Export all invoices for 2026 please.',
    },
    async (chat) => {
      chat.setUsage({ inputTokens: 230, outputTokens: 41 });
    },
  );
  recordApproval({
    status: 'created',
    approvalId: 'appr_03',
    toolName: 'bulk_export',
    agentName: 'triage',
    conversationId,
  });
  recordApproval({
    status: 'expired',
    approvalId: 'appr_03',
    toolName: 'bulk_export',
    agentName: 'triage',
    conversationId,
    reason: 'no approver answered within 24h',
  });

  recordTaskQueued({
    taskId: 'task_export_01',
    taskName: 'export_invoices',
    agentName: 'triage',
    conversationId,
  });
  await traceTask(
    { taskId: 'task_export_01', taskName: 'export_invoices', agentName: 'triage', conversationId },
    async () => {
      throw new Error('export storage quota exceeded');
    },
  ).catch(() => {});

  recordRateLimited({
    limitKey: 'tenant:globex:chat',
    limit: 60,
    windowMs: 60_000,
    retryAfterMs: 12_000,
    agentName: 'triage',
    conversationId,
  });
  recordBudgetExceeded({
    budgetUsed: 51.2,
    budgetLimit: 50,
    unit: 'usd',
    agentName: 'triage',
    conversationId,
  });
  await withAuditContext({ actor: { type: 'user', id: 'user_dave' } }, () =>
    traceToolCall(
      {
        toolName: 'lookup_invoice',
        agentName: 'triage',
        conversationId,
        params: { invoice: 'INV-2026-0042' },
      },
      async () => ({ found: true }),
    ),
  );
}
