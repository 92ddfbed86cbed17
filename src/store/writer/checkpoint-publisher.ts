import type { CheckpointKind, CheckpointRecord, SealedAuditRecord } from '../audit-record.js';
import type { WriterStore } from '../audit-store.js';
import { GENESIS_HASH, sealedCanonical } from '../hash-chain.js';
import { CURRENT_HASH_VERSION } from '../hashed-columns.js';
import { CompactTree } from '../merkle/compact-tree.js';
import { leafBytesOfRecord, rowLeafHash } from '../merkle/leaf.js';
import type { TreeHeadWitness } from '../merkle/witness.js';
import { type CheckpointSigner, checkpointHash } from './checkpoint-signer.js';
import type { AuditLogger } from './logger.js';
import { describeError } from './write-errors.js';

export interface CheckpointPublisherOptions {
  store: WriterStore;
  serviceName: string | null;
  signer: CheckpointSigner | null;
  /** Rows between tree heads. */
  everyRecords: number;
  /** Longest time between tree heads while rows arrive; also the timer's period. */
  everyMs: number;
  /** Published to after the database stored the head (directory, HTTP endpoint). */
  witnesses: readonly TreeHeadWitness[];
  /** Called after each stored tree head, e.g. to emit it as a span. */
  onCheckpoint?: (checkpoint: CheckpointRecord) => void;
  logger: AuditLogger;
  /** Runs store I/O the way the writer does (untraced, with its deadline). */
  guard: <T>(io: () => Promise<T>) => Promise<T>;
}

/** One chain this writer seals: its compact Merkle tree and the last stored head. */
interface ChainTree {
  chainId: string;
  tree: CompactTree;
  /** `hash` of the row at `tree.size` (the hash-chain head). */
  headHash: string;
  /** Committed rows beyond the tree's size (out-of-order commits), by seq. */
  ahead: Map<number, { leaf: Buffer; hash: string }>;
  last: CheckpointRecord | null;
  lastAt: number;
  genesis: Promise<void> | null;
  closed: boolean;
}

/**
 * Publishes signed tree heads of the writer's own chains: the genesis (size 0) before a chain's
 * first row, a periodic head every `everyRecords` rows or `everyMs`, and a final head at shutdown.
 * Each head names its predecessor's hash, is stored in `audit_checkpoints`, then handed to every
 * witness. Heads only cover rows committed contiguously from seq 1, so a stored head never names
 * a row the database lacks. One publish runs at a time.
 */
export class CheckpointPublisher {
  private readonly chains = new Map<string, ChainTree>();
  /** Chains of dead writers whose first rows this writer replays (genesis only). */
  private readonly adopted = new Map<string, ChainTree>();
  private readonly options: CheckpointPublisherOptions;
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private published = 0;
  private witnessFailures = 0;

  constructor(options: CheckpointPublisherOptions) {
    this.options = options;
  }

  get stats(): { checkpoints: number; witnessFailures: number } {
    return { checkpoints: this.published, witnessFailures: this.witnessFailures };
  }

  /** Registers a chain this writer seals; its genesis is written before its first row. */
  openChain(chainId: string): void {
    if (this.chains.has(chainId)) return;
    this.chains.set(chainId, this.newChainTree(chainId, false));
    this.startTimer();
  }

  private newChainTree(chainId: string, replayed: boolean): ChainTree {
    return {
      chainId,
      tree: new CompactTree(),
      headHash: GENESIS_HASH,
      ahead: new Map(),
      last: null,
      lastAt: Date.now(),
      genesis: null,
      // A replayed chain gets its genesis only; its tree is not this writer's to extend.
      closed: replayed,
    };
  }

  /**
   * Resolves once the genesis of every own chain in `batch` is stored; rejects when it could not
   * be (the writer then retries the batch). Rows of other chains (journal replays) pass through.
   */
  async beforeWrite(batch: readonly SealedAuditRecord[]): Promise<void> {
    const first = batch[0];
    if (!first) return;
    const chain = this.chains.get(first.chainId) ?? this.adoptReplayedChain(first);
    if (!chain || chain.last !== null) return;
    // Its failure is the batch's failure: the writer classifies and logs it, and retries.
    chain.genesis ??= this.store(chain, 'genesis');
    try {
      await chain.genesis;
    } catch (error) {
      chain.genesis = null;
      throw error;
    }
  }

  /**
   * A journal replay of a chain's first rows, sealed by a writer that died before its genesis was
   * stored: that chain gets its genesis now (a no-op when the dead writer did store one, by the
   * unique index), or verify could not tell it from a made-up chain. Its later heads stay unwritten.
   */
  private adoptReplayedChain(first: SealedAuditRecord): ChainTree | undefined {
    if (first.chainSeq !== 1) return undefined;
    let chain = this.adopted.get(first.chainId);
    if (!chain) {
      chain = this.newChainTree(first.chainId, true);
      this.adopted.set(first.chainId, chain);
    }
    return chain;
  }

  /** Rows committed to the database: own chains' leaves join their trees, in seq order. */
  onCommitted(rows: readonly SealedAuditRecord[]): void {
    for (const row of rows) {
      const chain = this.chains.get(row.chainId);
      if (!chain || row.chainSeq <= chain.tree.size) continue;
      // The canonical fields sealing hashed are the leaf bytes; a replayed row has them computed.
      const leafBytes = sealedCanonical(row) ?? leafBytesOfRecord(row);
      chain.ahead.set(row.chainSeq, { leaf: rowLeafHash(leafBytes), hash: row.hash });
    }
    for (const chain of this.chains.values()) {
      for (;;) {
        const next = chain.ahead.get(chain.tree.size + 1);
        if (!next) break;
        chain.ahead.delete(chain.tree.size + 1);
        chain.tree.append(next.leaf);
        chain.headHash = next.hash;
      }
    }
  }

  /** A periodic head for each chain that is due (by rows or by time); skipped while one runs. */
  async maybePublish(): Promise<void> {
    if (this.inFlight || this.stopped) return;
    const now = Date.now();
    const due = [...this.chains.values()].filter((c) => {
      if (c.closed || c.last === null || c.tree.size <= c.last.chainSeq) return false;
      return (
        c.tree.size - c.last.chainSeq >= this.options.everyRecords ||
        now - c.lastAt >= this.options.everyMs
      );
    });
    if (due.length === 0) return;
    const run = (async () => {
      for (const chain of due) await this.publish(chain, 'periodic');
    })();
    this.inFlight = run;
    try {
      await run;
    } finally {
      this.inFlight = null;
    }
  }

  /** Stops the timer and waits for a head being written: call before the connections close. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight?.catch(() => {});
  }

  /**
   * Writes the final head of `chainId` when every row it sealed (`sealedThrough`) is in the tree;
   * verify then treats any later row as forged. Resolves to whether the chain was closed.
   */
  async final(chainId: string, sealedThrough: number): Promise<boolean> {
    await this.stop();
    const chain = this.chains.get(chainId);
    if (!chain || chain.closed || chain.tree.size === 0) return false;
    if (chain.tree.size !== sealedThrough) {
      // Some sealed rows are not committed (journaled): a periodic head anchors what is.
      if (chain.last && chain.tree.size > chain.last.chainSeq)
        await this.publish(chain, 'periodic');
      return false;
    }
    const stored = await this.publish(chain, 'final');
    if (stored) chain.closed = true;
    return stored;
  }

  private startTimer(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.maybePublish(), this.options.everyMs);
    this.timer.unref();
  }

  /** Stores a head; a failure is logged, and the next head chains to the last stored one. */
  private async publish(
    chain: ChainTree,
    kind: Exclude<CheckpointKind, 'legacy'>,
  ): Promise<boolean> {
    try {
      await this.store(chain, kind);
      return true;
    } catch (error) {
      this.options.logger.warn(`storing a ${kind} tree head failed: ${describeError(error)}`);
      return false;
    }
  }

  /** Signs and stores a head of `chain`, then hands it to the witnesses and the callback. */
  private async store(chain: ChainTree, kind: Exclude<CheckpointKind, 'legacy'>): Promise<void> {
    const { signer, serviceName } = this.options;
    const size = kind === 'genesis' ? 0 : chain.tree.size;
    const unsigned: Omit<CheckpointRecord, 'signature'> = {
      chainId: chain.chainId,
      kind,
      chainSeq: size,
      headHash: kind === 'genesis' ? GENESIS_HASH : chain.headHash,
      rootHash: (kind === 'genesis' ? new CompactTree() : chain.tree).root().toString('hex'),
      prevCheckpointHash: chain.last ? checkpointHash(chain.last) : null,
      hashVersion: CURRENT_HASH_VERSION,
      createdAt: new Date().toISOString(),
      serviceName,
      algorithm: signer ? signer.algorithm : 'none',
      keyId: signer ? signer.keyId : null,
      final: kind === 'final',
    };
    const head: CheckpointRecord = {
      ...unsigned,
      signature: signer ? signer.sign(unsigned) : null,
    };
    await this.options.guard(() => this.options.store.insertCheckpoint(head));
    chain.last = head;
    chain.lastAt = Date.now();
    this.published += 1;
    for (const witness of this.options.witnesses) {
      try {
        await witness.publish(head);
      } catch (error) {
        this.witnessFailures += 1;
        this.options.logger.error(
          `publishing a ${kind} tree head of chain ${chain.chainId} to the ${witness.name} failed: ${describeError(error)}`,
        );
      }
    }
    try {
      this.options.onCheckpoint?.(head);
    } catch (error) {
      this.options.logger.warn(`the onCheckpoint callback threw: ${describeError(error)}`);
    }
  }
}
