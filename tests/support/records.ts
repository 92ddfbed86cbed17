import { randomBytes } from 'node:crypto';
import type { AuditRecord } from '../../src/store/audit-record.js';

/** A plausible tool-call record; `overrides` set any field. */
export function makeRecord(index: number, overrides: Partial<AuditRecord> = {}): AuditRecord {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return {
    eventId: `${traceId}:${spanId}`,
    occurredAt: new Date(Date.UTC(2026, 10, 27, 9, 0, 0) + index * 1000)
      .toISOString()
      .replace('Z', '123Z'),
    tenantId: index % 2 === 0 ? 'acme' : 'globex',
    actorType: 'user',
    actorId: `user_${index % 5}`,
    subjectId: `user_${index % 5}`,
    action: 'ai.tool_call',
    outcome: 'success',
    resourceType: null,
    resourceId: null,
    conversationId: `conv_${index % 7}`,
    taskId: null,
    agentName: 'billing',
    toolName: 'lookup_order',
    approvalId: null,
    metadata: {
      toolName: 'lookup_order',
      toolParams: { orderId: `ORD-${index}`, amount: index * 1.5 },
      source: 'test',
    },
    traceId,
    spanId,
    serviceName: 'integrity-test',
    ...overrides,
  };
}
