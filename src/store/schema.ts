import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { AiAuditMetadata } from './metadata.js';

/**
 * One row per audit record: a span or span event carrying `audit.action`.
 * Append-only (see the append_only migration); rows of one writer form a hash chain.
 */
export const auditLogs = pgTable(
  'audit_logs',
  {
    id: uuid('id').primaryKey(),
    /** `{trace_id}:{span_id}` or `{trace_id}:{span_id}:{event index}`: the idempotency key. */
    eventId: text('event_id').notNull(),
    /** The span's start, or the event's own time, with microsecond precision. */
    occurredAt: timestamp('occurred_at', {
      withTimezone: true,
      precision: 6,
      mode: 'string',
    }).notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true, precision: 6, mode: 'string' })
      .notNull()
      .defaultNow(),
    tenantId: text('tenant_id'),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id').notNull(),
    action: text('action').notNull(),
    outcome: text('outcome').notNull(),
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    conversationId: text('conversation_id'),
    taskId: text('task_id'),
    agentName: text('agent_name'),
    toolName: text('tool_name'),
    approvalId: text('approval_id'),
    /** The data subject the row is about (default: the actor, when a user). */
    subjectId: text('subject_id'),
    metadata: jsonb('metadata').$type<AiAuditMetadata>().notNull().default(sql`'{}'::jsonb`),
    traceId: text('trace_id').notNull(),
    spanId: text('span_id').notNull(),
    serviceName: text('service_name'),
    chainId: text('chain_id').notNull(),
    chainSeq: bigint('chain_seq', { mode: 'number' }).notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    uniqueIndex('audit_logs_event_id_key').on(t.eventId),
    uniqueIndex('audit_logs_chain_seq_key').on(t.chainId, t.chainSeq),
    index('audit_logs_tenant_occurred_idx').on(t.tenantId, t.occurredAt),
    index('audit_logs_actor_occurred_idx').on(t.actorId, t.occurredAt),
    index('audit_logs_action_occurred_idx').on(t.action, t.occurredAt),
    index('audit_logs_conversation_idx').on(t.conversationId, t.occurredAt),
    index('audit_logs_trace_idx').on(t.traceId),
    index('audit_logs_occurred_id_idx').on(t.occurredAt, t.id),
  ],
);

/** Signed statements of a chain's head, so a truncated tail or a rewritten chain is detectable. */
export const auditCheckpoints = pgTable(
  'audit_checkpoints',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    chainId: text('chain_id').notNull(),
    chainSeq: bigint('chain_seq', { mode: 'number' }).notNull(),
    headHash: text('head_hash').notNull(),
    createdAt: timestamp('created_at', {
      withTimezone: true,
      precision: 6,
      mode: 'string',
    }).notNull(),
    serviceName: text('service_name'),
    /** `hmac-sha256`, `ed25519` or `none`. */
    algorithm: text('algorithm').notNull(),
    /** Written at a clean shutdown: the chain ends here, and any row after it is forged. */
    final: boolean('final').notNull().default(false),
    keyId: text('key_id'),
    signature: text('signature'),
  },
  (t) => [uniqueIndex('audit_checkpoints_chain_seq_key').on(t.chainId, t.chainSeq, t.final)],
);

export type AuditLogRow = typeof auditLogs.$inferSelect;
export type AuditCheckpointRow = typeof auditCheckpoints.$inferSelect;
export type { AiAuditMetadata } from './metadata.js';
