import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { AiAuditMetadata } from './metadata.js';
import type { PrunedChainRange } from './verify/pruned.js';

/**
 * One row per audit record: a span or span event carrying `audit.action`.
 * Append-only (see the append_only migration); rows of one writer form a hash chain.
 * Partitioned by month of `occurred_at` (migration 0004): the primary key and the unique keys
 * include it. Personal values are not here but in `auditPersonalData`: `actor_id`,
 * `subject_id` and `metadata.personal` hold salted commitments to them.
 */
export const auditLogs = pgTable(
  'audit_logs',
  {
    id: uuid('id').notNull(),
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
    /** The data subject the row is about. */
    subjectId: text('subject_id'),
    action: text('action').notNull(),
    outcome: text('outcome').notNull(),
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    conversationId: text('conversation_id'),
    taskId: text('task_id'),
    agentName: text('agent_name'),
    toolName: text('tool_name'),
    approvalId: text('approval_id'),
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
    primaryKey({ name: 'audit_logs_pkey', columns: [t.id, t.occurredAt] }),
    uniqueIndex('audit_logs_event_id_key').on(t.eventId, t.occurredAt),
    uniqueIndex('audit_logs_chain_seq_key').on(t.chainId, t.chainSeq, t.occurredAt),
    index('audit_logs_tenant_occurred_idx').on(t.tenantId, t.occurredAt),
    index('audit_logs_action_occurred_idx').on(t.action, t.occurredAt),
    index('audit_logs_conversation_idx').on(t.conversationId, t.occurredAt),
    index('audit_logs_trace_idx').on(t.traceId),
    index('audit_logs_chain_idx').on(t.chainId, t.chainSeq),
    index('audit_logs_occurred_id_idx').on(t.occurredAt, t.id),
  ],
);

const timestamptz = (name: string) =>
  timestamp(name, { withTimezone: true, precision: 6, mode: 'string' });

/**
 * The personal-data vault: each audit row's personal values, outside the hash chain, with the
 * salts of their commitments. Erasure removes values and salts (and names its receipt); the
 * chained row does not change. `salts` null: the values are also in the chained row in plain
 * text (rows from before migration 0004). Partitioned like `audit_logs`.
 */
export const auditPersonalData = pgTable(
  'audit_personal_data',
  {
    rowId: uuid('row_id').notNull(),
    occurredAt: timestamptz('occurred_at').notNull(),
    tenantId: text('tenant_id'),
    subjectId: text('subject_id'),
    actorId: text('actor_id'),
    /** The row's personal metadata: content, tool params and results, reasons, free text. */
    personal: jsonb('personal').$type<Record<string, unknown>>(),
    salts: jsonb('salts').$type<Partial<Record<'subject' | 'actor' | 'personal', string>>>(),
    erasedBy: uuid('erased_by'),
  },
  (t) => [
    primaryKey({ name: 'audit_personal_data_pkey', columns: [t.rowId, t.occurredAt] }),
    index('audit_personal_data_subject_idx').on(t.subjectId, t.occurredAt),
    index('audit_personal_data_actor_idx').on(t.actorId, t.occurredAt),
  ],
);

/** One signed receipt per erasure; holds no personal data (the subject only as a salted hash). */
export const auditErasures = pgTable('audit_erasures', {
  receiptId: uuid('receipt_id').primaryKey(),
  erasedAt: timestamptz('erased_at').notNull(),
  tenantId: text('tenant_id'),
  subjectCommitment: text('subject_commitment').notNull(),
  rowsErased: integer('rows_erased').notNull(),
  plaintextRows: integer('plaintext_rows').notNull(),
  algorithm: text('algorithm').notNull(),
  keyId: text('key_id'),
  signature: text('signature'),
});

/** Legal holds on a tenant or a subject: they block erasure and retention while active. */
export const auditLegalHolds = pgTable('audit_legal_holds', {
  id: uuid('id').primaryKey(),
  tenantId: text('tenant_id'),
  subjectId: text('subject_id'),
  reason: text('reason').notNull(),
  placedAt: timestamptz('placed_at').notNull().defaultNow(),
  releasedAt: timestamptz('released_at'),
});

/** How long a tenant's rows are kept; no row means forever. */
export const auditRetentionPolicies = pgTable('audit_retention_policies', {
  tenantId: text('tenant_id').primaryKey(),
  keepMonths: integer('keep_months').notNull(),
  overrideReason: text('override_reason'),
  updatedAt: timestamptz('updated_at').notNull().defaultNow(),
});

/** A signed record of one dropped month: which chains lost which sequence ranges. */
export const auditPrunes = pgTable('audit_prunes', {
  id: uuid('id').primaryKey(),
  partitionName: text('partition_name').notNull(),
  rangeFrom: timestamptz('range_from').notNull(),
  rangeTo: timestamptz('range_to').notNull(),
  prunedAt: timestamptz('pruned_at').notNull(),
  rowsRemoved: bigint('rows_removed', { mode: 'number' }).notNull(),
  chains: jsonb('chains').$type<PrunedChainRange[]>().notNull(),
  algorithm: text('algorithm').notNull(),
  keyId: text('key_id'),
  signature: text('signature'),
});

// The rows of one chain a prune removed: declared beside the verifier, so `aitrail/store`'s
// declarations reach it without loading drizzle-orm's.
export type { PrunedChainRange } from './verify/pruned.js';

/** Signed statements of a chain's head, so a truncated tail or a rewritten chain is detectable. */
/**
 * Signed tree heads of each chain (RFC 9162 Merkle tree over its rows), chained to each other
 * from a signed genesis: a truncated tail, a rewritten or made-up chain is detectable.
 */
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
    /** `genesis` (size 0), `periodic`, `final`, or `legacy` (written before tree heads existed). */
    kind: text('kind')
      .$type<'genesis' | 'periodic' | 'final' | 'legacy'>()
      .notNull()
      .default('legacy'),
    /** Merkle tree hash over rows 1..chain_seq; null for legacy heads. */
    rootHash: text('root_hash'),
    /** Hash of the chain's previous tree head; null for a genesis. */
    prevCheckpointHash: text('prev_checkpoint_hash'),
    /** 1: before tree heads (no subject_id hashed); 2: tree heads, subject_id hashed. */
    hashVersion: smallint('hash_version').notNull().default(1),
    /** Same as chain_seq: the number of leaves the head covers. */
    treeSize: bigint('tree_size', { mode: 'number' }).generatedAlwaysAs(sql`chain_seq`),
  },
  (t) => [uniqueIndex('audit_checkpoints_chain_seq_key').on(t.chainId, t.chainSeq, t.final)],
);

export type AuditLogRow = typeof auditLogs.$inferSelect;
export type AuditPersonalDataRow = typeof auditPersonalData.$inferSelect;
export type AuditCheckpointRow = typeof auditCheckpoints.$inferSelect;
export type { AiAuditMetadata } from './metadata.js';
