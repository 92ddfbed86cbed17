import type { PersonalValues } from './erasure/personal-fields.js';
import type { AiAuditMetadata } from './metadata.js';

/**
 * One audit record as the writer receives it. Span-agnostic: the processor maps spans to
 * records; the store only knows records.
 */
export interface AuditRecord {
  /** Idempotency key, unique across the table. */
  eventId: string;
  /** ISO 8601 UTC with microseconds: `2026-11-27T09:27:09.123456Z`. */
  occurredAt: string;
  tenantId: string | null;
  actorType: string;
  actorId: string;
  /** The data subject the record is about (a person's id), or null. */
  subjectId: string | null;
  action: string;
  outcome: string;
  resourceType: string | null;
  resourceId: string | null;
  conversationId: string | null;
  taskId: string | null;
  agentName: string | null;
  toolName: string | null;
  approvalId: string | null;
  metadata: AiAuditMetadata;
  /** 32 lowercase hex characters. */
  traceId: string;
  /** 16 lowercase hex characters. */
  spanId: string;
  serviceName: string | null;
}

/** A record with its place in a writer's hash chain; assigned once, before the first write. */
export interface SealedAuditRecord extends AuditRecord {
  id: string;
  chainId: string;
  chainSeq: number;
  prevHash: string;
  hash: string;
  /** The canonical JSON of `metadata`, computed once and reused for hashing, inserting and journaling. */
  metadataJson: string;
  /**
   * The personal values behind the commitments in `actorId`, `subjectId` and
   * `metadata.personal`, bound for the vault table. Absent: the record is stored as it is (its
   * values in plain text in the chained row) and the vault indexes those plain values.
   */
  personal?: PersonalValues;
}

/**
 * A signed tree head of a chain (or, `kind: 'legacy'`, a head written before tree heads existed:
 * it names the chain's head row hash only). `chainSeq` is the tree size: rows 1..chainSeq are
 * the tree's leaves.
 */
export interface CheckpointRecord {
  chainId: string;
  /** `genesis` (size 0, before the first row), `periodic`, `final` (clean shutdown), or `legacy`. */
  kind: CheckpointKind;
  chainSeq: number;
  /** `hash` of the row at `chainSeq` (the hash-chain head); all zeros for a genesis. */
  headHash: string;
  /** RFC 9162 Merkle tree hash over the chain's first `chainSeq` rows; null for legacy heads. */
  rootHash: string | null;
  /** `checkpointHash` of the chain's previous tree head; null for a genesis and legacy heads. */
  prevCheckpointHash: string | null;
  /** How the chain's rows are hashed (see `HashVersion`). */
  hashVersion: 1 | 2;
  createdAt: string;
  serviceName: string | null;
  algorithm: 'hmac-sha256' | 'ed25519' | 'none';
  keyId: string | null;
  signature: string | null;
  /** The chain's last checkpoint, written at a clean shutdown: no row may follow it. */
  final: boolean;
}

export type CheckpointKind = 'genesis' | 'periodic' | 'final' | 'legacy';
