import { createHash } from 'node:crypto';
import type { AuditRecord, SealedAuditRecord } from './audit-record.js';
import { canonicalJson } from './canonical-json.js';
import { uuidv7 } from './uuidv7.js';

/** `prev_hash` of the first row of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The fields a row's hash covers, by column name. `recorded_at` (set by the database) and
 * `prev_hash`/`hash` themselves are not covered; `prev_hash` is chained in front instead.
 */
export interface HashedFields {
  id: string;
  event_id: string;
  occurred_at: string;
  tenant_id: string | null;
  actor_type: string;
  actor_id: string;
  action: string;
  outcome: string;
  resource_type: string | null;
  resource_id: string | null;
  conversation_id: string | null;
  task_id: string | null;
  agent_name: string | null;
  tool_name: string | null;
  approval_id: string | null;
  /** Canonical JSON text of the metadata column. */
  metadata: string;
  trace_id: string;
  span_id: string;
  service_name: string | null;
  chain_id: string;
  chain_seq: number;
}

/** `sha256(prev_hash ‖ "\n" ‖ canonical JSON of the hashed fields)`, lowercase hex. */
export function computeRowHash(prevHash: string, fields: HashedFields): string {
  return chainHash(prevHash, canonicalJson(fields));
}

/** The chain step over an already canonical JSON text. */
export function chainHash(prevHash: string, canonicalFields: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalFields).digest('hex');
}

export function hashedFieldsOf(record: Omit<SealedAuditRecord, 'prevHash' | 'hash'>): HashedFields {
  return {
    id: record.id,
    event_id: record.eventId,
    occurred_at: record.occurredAt,
    tenant_id: record.tenantId,
    actor_type: record.actorType,
    actor_id: record.actorId,
    action: record.action,
    outcome: record.outcome,
    resource_type: record.resourceType,
    resource_id: record.resourceId,
    conversation_id: record.conversationId,
    task_id: record.taskId,
    agent_name: record.agentName,
    tool_name: record.toolName,
    approval_id: record.approvalId,
    metadata: record.metadataJson,
    trace_id: record.traceId,
    span_id: record.spanId,
    service_name: record.serviceName,
    chain_id: record.chainId,
    chain_seq: record.chainSeq,
  };
}

/** Numbers a writer's records contiguously and links each to the previous one. */
export class HashChain {
  private seq: number;
  private head: string;

  constructor(
    readonly chainId: string,
    start: { seq: number; head: string } = { seq: 0, head: GENESIS_HASH },
  ) {
    this.seq = start.seq;
    this.head = start.head;
  }

  get lastSeq(): number {
    return this.seq;
  }

  get headHash(): string {
    return this.head;
  }

  seal(record: AuditRecord, metadataJson: string): SealedAuditRecord {
    const unsealed = {
      ...record,
      id: uuidv7(),
      chainId: this.chainId,
      chainSeq: this.seq + 1,
      metadataJson,
    };
    const hash = computeRowHash(this.head, hashedFieldsOf(unsealed));
    const sealed: SealedAuditRecord = { ...unsealed, prevHash: this.head, hash };
    this.seq += 1;
    this.head = hash;
    return sealed;
  }
}
