import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import type { AuditRecord, SealedAuditRecord } from './audit-record.js';
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
  /**
   * Hashed only when present: rows sealed before data subjects existed (no subject) keep
   * their hashes, and adding or removing a subject later still breaks the row's hash.
   */
  subject_id?: string;
  chain_id: string;
  chain_seq: number;
}

/** Hashed fields in canonical (UTF-16 sorted) order: column name, and the record property. */
const SORTED_FIELDS = [
  ['action', 'action'],
  ['actor_id', 'actorId'],
  ['actor_type', 'actorType'],
  ['agent_name', 'agentName'],
  ['approval_id', 'approvalId'],
  ['chain_id', 'chainId'],
  ['chain_seq', 'chainSeq'],
  ['conversation_id', 'conversationId'],
  ['event_id', 'eventId'],
  ['id', 'id'],
  ['metadata', 'metadataJson'],
  ['occurred_at', 'occurredAt'],
  ['outcome', 'outcome'],
  ['resource_id', 'resourceId'],
  ['resource_type', 'resourceType'],
  ['service_name', 'serviceName'],
  ['span_id', 'spanId'],
  ['subject_id', 'subjectId'],
  ['task_id', 'taskId'],
  ['tenant_id', 'tenantId'],
  ['tool_name', 'toolName'],
  ['trace_id', 'traceId'],
] as const satisfies ReadonlyArray<readonly [keyof HashedFields, keyof SealedAuditRecord]>;

/**
 * `canonicalJson(fields)` for this one fixed shape, without sorting keys per row: sealing is on
 * the writer's busiest path. A test holds it equal to `canonicalJson`.
 */
export function canonicalHashedFields(fields: HashedFields): string {
  let out = '{';
  for (let i = 0; i < SORTED_FIELDS.length; i++) {
    const column = (SORTED_FIELDS[i] as (typeof SORTED_FIELDS)[number])[0];
    if (fields[column] === undefined) continue;
    out += `${out.length === 1 ? '"' : ',"'}${column}":${JSON.stringify(fields[column])}`;
  }
  return `${out}}`;
}

/**
 * The same canonical text, read straight from a record: an object literal whose keys are
 * written in sorted order, serialised by one native `JSON.stringify` (none of these keys is an
 * array index, so insertion order is enumeration order).
 */
function canonicalOfRecord(r: Omit<SealedAuditRecord, 'prevHash' | 'hash'>): string {
  return JSON.stringify({
    action: r.action,
    actor_id: r.actorId,
    actor_type: r.actorType,
    agent_name: r.agentName,
    approval_id: r.approvalId,
    chain_id: r.chainId,
    chain_seq: r.chainSeq,
    conversation_id: r.conversationId,
    event_id: r.eventId,
    id: r.id,
    metadata: r.metadataJson,
    occurred_at: r.occurredAt,
    outcome: r.outcome,
    resource_id: r.resourceId,
    resource_type: r.resourceType,
    service_name: r.serviceName,
    span_id: r.spanId,
    subject_id: r.subjectId ?? undefined,
    task_id: r.taskId,
    tenant_id: r.tenantId,
    tool_name: r.toolName,
    trace_id: r.traceId,
  });
}

/** `sha256(prev_hash ‖ "
" ‖ canonical JSON of the hashed fields)`, lowercase hex. */
export function computeRowHash(prevHash: string, fields: HashedFields): string {
  return chainHash(prevHash, canonicalHashedFields(fields));
}

/** The chain step over an already canonical JSON text. */
export function chainHash(prevHash: string, canonicalFields: string): string {
  return sha256Hex(`${prevHash}
${canonicalFields}`);
}

// One-shot hashing (Node >= 20.12) skips a Hash object per row; older 20.x falls back.
const oneShot = (crypto as { hash?: (algorithm: string, data: string) => string }).hash;
function sha256Hex(data: string): string {
  return oneShot ? oneShot('sha256', data) : createHash('sha256').update(data).digest('hex');
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
    ...(record.subjectId === null ? {} : { subject_id: record.subjectId }),
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
    // Built field by field: one object shape for every sealed record keeps this path fast.
    const sealed: SealedAuditRecord = {
      eventId: record.eventId,
      occurredAt: record.occurredAt,
      tenantId: record.tenantId,
      actorType: record.actorType,
      actorId: record.actorId,
      subjectId: record.subjectId ?? null,
      action: record.action,
      outcome: record.outcome,
      resourceType: record.resourceType,
      resourceId: record.resourceId,
      conversationId: record.conversationId,
      taskId: record.taskId,
      agentName: record.agentName,
      toolName: record.toolName,
      approvalId: record.approvalId,
      metadata: record.metadata,
      traceId: record.traceId,
      spanId: record.spanId,
      serviceName: record.serviceName,
      id: uuidv7(),
      chainId: this.chainId,
      chainSeq: this.seq + 1,
      prevHash: this.head,
      hash: '',
      metadataJson,
    };
    sealed.hash = chainHash(this.head, canonicalOfRecord(sealed));
    this.seq += 1;
    this.head = sealed.hash;
    return sealed;
  }
}
