import type { CheckpointRecord } from '../audit-record.js';
import type { CheckpointSigner } from './checkpoint-signer.js';
import type { AuditLogger } from './logger.js';
import { describeError } from './write-errors.js';

/** Where a chain stands: what is committed (checkpoints may name only that) and what is sealed. */
export interface ChainHead {
  chainId: string;
  committedSeq: number;
  committedHash: string | null;
  sealedSeq: number;
}

/**
 * The writer's one seam for checkpoints. The writer calls `onCommitted` after each committed
 * batch and `final` once at a clean shutdown, after everything sealed is committed; it knows
 * nothing else about checkpoints. (The integrity area's checkpoint publisher, with tree heads,
 * genesis and the witness, replaces this class behind the same calls.)
 */
export interface CheckpointSeam {
  /** Stores a periodic checkpoint when one is due. Never throws. */
  onCommitted(head: ChainHead): Promise<void>;
  /** Stores the final checkpoint; resolves true when it closed the chain (no row may follow). */
  final(head: ChainHead): Promise<boolean>;
}

export interface CheckpointsOptions {
  /** Rows between checkpoints. */
  everyRecords: number;
  /** Longest time between checkpoints while rows arrive. */
  everyMs: number;
  signer: CheckpointSigner | null;
  serviceName: string | null;
  /** Stores one checkpoint (the writer's guarded store call). */
  store: (checkpoint: CheckpointRecord) => Promise<void>;
  /** Called after each stored checkpoint, e.g. to emit it as a span. */
  onCheckpoint?: (checkpoint: CheckpointRecord) => void;
  logger: AuditLogger;
}

/** Today's checkpoints: a signed statement of the committed head, every N rows or T ms. */
export class Checkpoints implements CheckpointSeam {
  private lastSeq = 0;
  private lastAt = Date.now();
  private writing = false;
  stored = 0;

  constructor(private readonly options: CheckpointsOptions) {}

  async onCommitted(head: ChainHead): Promise<void> {
    if (this.writing || head.committedSeq <= this.lastSeq) return;
    const due =
      head.committedSeq - this.lastSeq >= this.options.everyRecords ||
      Date.now() - this.lastAt >= this.options.everyMs;
    if (!due) return;
    this.writing = true;
    try {
      await this.write(head, false);
    } finally {
      this.writing = false;
    }
  }

  async final(head: ChainHead): Promise<boolean> {
    return this.write(head, true);
  }

  /**
   * Stores a checkpoint of the committed head. `final` (everything sealed committed) closes the
   * chain: verify then treats any later row as forged.
   */
  private async write(head: ChainHead, final: boolean): Promise<boolean> {
    const { committedSeq: seq, committedHash: hash } = head;
    if (hash === null) return false;
    const closesChain = final && seq === head.sealedSeq;
    if (seq <= this.lastSeq && !closesChain) return false;
    const signer = this.options.signer;
    const unsigned: Omit<CheckpointRecord, 'signature'> = {
      chainId: head.chainId,
      chainSeq: seq,
      headHash: hash,
      createdAt: new Date().toISOString(),
      serviceName: this.options.serviceName,
      algorithm: signer ? signer.algorithm : 'none',
      keyId: signer ? signer.keyId : null,
      final: closesChain,
    };
    const checkpoint: CheckpointRecord = {
      ...unsigned,
      signature: signer ? signer.sign(unsigned) : null,
    };
    try {
      await this.options.store(checkpoint);
    } catch (error) {
      const when = final ? 'at shutdown' : 'periodically';
      this.options.logger.warn(`storing a checkpoint ${when} failed: ${describeError(error)}`);
      return false;
    }
    this.lastSeq = seq;
    this.lastAt = Date.now();
    this.stored += 1;
    try {
      this.options.onCheckpoint?.(checkpoint);
    } catch (error) {
      this.options.logger.warn(`the onCheckpoint callback threw: ${describeError(error)}`);
    }
    return closesChain;
  }
}
