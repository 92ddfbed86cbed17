import type { AuditRecord, SealedAuditRecord } from './audit-record.js';
import { sha256Hex } from './digest.js';
import {
  CURRENT_HASH_VERSION,
  canonicalColumns,
  type HashedFields,
  type HashVersion,
} from './hashed-columns.js';
import { UuidV7Source } from './uuidv7.js';

export type { HashedFields, HashVersion } from './hashed-columns.js';

/** `prev_hash` of the first row of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

const CANONICAL = {
  1: canonicalColumns(1).map((c) => c.column),
  2: canonicalColumns(2).map((c) => c.column),
} as const;
const CANONICAL_PROPERTIES = {
  1: canonicalColumns(1).map((c) => [c.column, c.property] as const),
  2: canonicalColumns(2).map((c) => [c.column, c.property] as const),
} as const;

/**
 * The canonical JSON of a row's hashed fields (what `canonicalJson(fields)` gives, without
 * sorting keys per row: sealing is on the writer's busiest path). A test holds them equal.
 * These bytes are the row's Merkle leaf and what its `hash` chains over.
 */
export function canonicalHashedFields(
  fields: HashedFields,
  version: HashVersion = CURRENT_HASH_VERSION,
): string {
  const columns = CANONICAL[version];
  let out = '{';
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i] as keyof HashedFields;
    out += `${i === 0 ? '"' : ',"'}${column}":${JSON.stringify(fields[column] ?? null)}`;
  }
  return `${out}}`;
}

/** The same canonical text, read straight from a sealed record. */
export function canonicalOfRecord(
  r: Omit<SealedAuditRecord, 'prevHash' | 'hash'>,
  version: HashVersion = CURRENT_HASH_VERSION,
): string {
  const columns = CANONICAL_PROPERTIES[version];
  let out = '{';
  for (let i = 0; i < columns.length; i++) {
    const [column, property] = columns[i] as (typeof columns)[number];
    out += `${i === 0 ? '"' : ',"'}${column}":${JSON.stringify(r[property] ?? null)}`;
  }
  return `${out}}`;
}

/** `sha256(prev_hash ‖ "\n" ‖ canonical JSON of the hashed fields)`, lowercase hex. */
export function computeRowHash(
  prevHash: string,
  fields: HashedFields,
  version: HashVersion = CURRENT_HASH_VERSION,
): string {
  return chainHash(prevHash, canonicalHashedFields(fields, version));
}

/** The chain step over an already canonical JSON text. */
export function chainHash(prevHash: string, canonicalFields: string): string {
  return sha256Hex(`${prevHash}\n${canonicalFields}`);
}

/** Where `seal` keeps a record's canonical hashed fields (see `sealedCanonical`). */
const SEALED_CANONICAL = Symbol('canonical hashed fields');

/**
 * The canonical hashed fields `seal` hashed this record over (its Merkle leaf bytes), kept so
 * the tree does not build them again; undefined for a record read back (a journal replay) or
 * changed since (a degraded copy), whose fields are then computed afresh.
 */
export function sealedCanonical(record: SealedAuditRecord): string | undefined {
  return (record as { [SEALED_CANONICAL]?: string })[SEALED_CANONICAL];
}

export function hashedFieldsOf(record: Omit<SealedAuditRecord, 'prevHash' | 'hash'>): HashedFields {
  const fields: Record<string, unknown> = {};
  for (const [column, property] of CANONICAL_PROPERTIES[2])
    fields[column] = record[property] ?? null;
  return fields as HashedFields;
}

/** Numbers a writer's records contiguously and links each to the previous one. */
export class HashChain {
  private seq: number;
  private head: string;
  private readonly ids = new UuidV7Source();

  constructor(
    readonly chainId: string,
    start: { seq: number; head: string } = { seq: 0, head: GENESIS_HASH },
    readonly hashVersion: HashVersion = CURRENT_HASH_VERSION,
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
      subjectId: record.subjectId ?? null,
      id: this.ids.next(),
      chainId: this.chainId,
      chainSeq: this.seq + 1,
      prevHash: this.head,
      hash: '',
      metadataJson,
    };
    const canonical = canonicalOfRecord(sealed, this.hashVersion);
    sealed.hash = chainHash(this.head, canonical);
    // Not enumerable, and a symbol: journal lines and spread copies leave it behind.
    Object.defineProperty(sealed, SEALED_CANONICAL, { value: canonical });
    this.seq += 1;
    this.head = sealed.hash;
    return sealed;
  }
}
