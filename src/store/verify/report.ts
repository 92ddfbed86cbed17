import type { CheckpointSigner } from '../writer/checkpoint-signer.js';
import type { VerifiedHeads } from './verified-heads.js';

/** What `verify` found wrong with a chain. */
export type TamperKind =
  /** The row's content no longer matches its hash (for a degraded row: its preserved original). */
  | 'modified_row'
  /** Sequence numbers are missing: rows were deleted. */
  | 'deleted_row'
  /** A row that does not link to its predecessor, or that follows the chain's final checkpoint. */
  | 'forged_row'
  /** A row that hashes correctly only at another sequence number: rows were reordered. */
  | 'reordered_row'
  /** A checkpoint names rows beyond the chain's last row (or the chain is gone): the tail was cut off. */
  | 'truncated_tail'
  /** A checkpoint whose signature does not verify, or that is unsigned although a key was given. */
  | 'forged_checkpoint'
  /** A tree head (or legacy head hash) the stored rows do not reproduce: the chain was recomputed. */
  | 'rewritten_chain'
  /** With a key: a chain with rows but no signed genesis (nor, for a legacy chain, any signed head). */
  | 'forged_chain'
  /** A tree head names a predecessor the database lacks, or the witness holds a head the database lacks. */
  | 'missing_checkpoint'
  /** The witness holds a chain the database lacks entirely. */
  | 'missing_chain'
  /** With a witness: a chain with rows the witness never saw a tree head of (made up, or legacy). */
  | 'unwitnessed_chain'
  /** The witness holds a larger tree head than the database's rows reach: the chain was rolled back. */
  | 'rolled_back'
  /** Rows newer than the chain's last tree head, older than `maxUnanchoredAgeMs`. */
  | 'unanchored_rows';

export interface ChainFailure {
  kind: TamperKind;
  chainId: string;
  /** The row where the failure shows (for a deletion: the first row after the gap). */
  eventId: string | null;
  chainSeq: number | null;
  detail: string;
}

export interface ChainReport {
  chainId: string;
  /** Written before tree heads existed (hash version 1, no genesis): checked as before. */
  legacy: boolean;
  /**
   * The size of the tree head an earlier run verified (option `verified`) that this run went on
   * from: rows and checkpoints before it were not read again. Null: checked from the start.
   */
  resumedFrom: number | null;
  rowsChecked: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Rows stored in degraded form after the database rejected them (their original is verified). */
  degradedRows: number;
  checkpoints: {
    total: number;
    signed: number;
    verified: number;
    /** Tree heads (genesis, periodic, final) among them; the rest are legacy heads. */
    treeHeads: number;
    /** Witness heads compared with this chain's rows and checkpoints. */
    witnessed: number;
    latestSeq: number | null;
    /** Sequence of the final checkpoint written at a clean shutdown, if any. */
    finalSeq: number | null;
  };
  /** Rows after the chain's last tree head: not yet covered by any signed statement. */
  unanchored: { rows: number; oldestAgeMs: number | null };
  failures: number;
  firstFailure: ChainFailure | null;
  /** Ranges removed by retention, each vouched for by a prune record (see `aitrail retention`). */
  pruned?: Array<{
    pruneId: string;
    partitionName: string;
    firstSeq: number;
    lastSeq: number;
    rows: number;
    rangeFrom: string;
    rangeTo: string;
    /** null: no key given to check the prune record's signature with. */
    signatureValid: boolean | null;
  }>;
}

export interface VerifyReport {
  ok: boolean;
  rowsChecked: number;
  chains: ChainReport[];
  /** Every failure, in the order found, up to `maxFailures`. */
  failures: ChainFailure[];
  /** All failures, including those past the cap. */
  failureCount: number;
  /** How far checkpoint signatures could be checked. */
  signatures: 'verified' | 'unsigned' | 'not_checked' | 'none';
  /** Whether a witness was compared, and how many of its heads. */
  witness: { checked: boolean; heads: number; unreadableLines: number };
  notes: string[];
  /** Worker threads the rows were read and checked on (0: on the calling thread; see option `threads`). */
  threads: number;
  /**
   * Per chain, the newest tree head this run verified and the Merkle frontier at it: pass it as
   * option `verified` next time (keep it outside the database) and only newer rows are read.
   * A chain with failures keeps the entry it came with. Absent with `since`.
   */
  verified?: VerifiedHeads;
}

export interface VerifyOptions {
  /** Only this chain. */
  chainId?: string;
  /** Start each chain at its first row at or after this time (its link to the row before is checked). */
  since?: Date | string;
  /**
   * Key to check checkpoint signatures with (HMAC secret or Ed25519 key). With a key, every
   * checkpoint must carry a valid signature, and every chain with rows a signed genesis.
   */
  signer?: CheckpointSigner | null;
  /** Witness directory (`AITRAIL_WITNESS_DIR` of the writers) to compare the database with. */
  witnessDir?: string | null;
  /** Fail when a chain has rows after its last tree head older than this. */
  maxUnanchoredAgeMs?: number | null;
  /** Failures listed in the report; the rest are counted. Default 1000. */
  maxFailures?: number;
  /**
   * Tree heads an earlier run verified (its report's `verified`): each chain is checked from its
   * head on, the tree extended from the stored frontier. Rows before a head are covered by it and
   * not read again; see docs/integrity.md for what this does not re-check. Not with `since`.
   */
  verified?: VerifiedHeads | null;
  /** Chains checked at the same time, each on its own connection. Default 2. */
  concurrency?: number;
  /**
   * Read and check chains on worker threads (one per chain being checked, each with a connection
   * of its own): true always (where the store can be reached from another thread), false never.
   * By default with 2 CPUs or more, `concurrency` 2 or more, and 20,000 rows or more to read in
   * the chain. Not the embedded store, whose database lives in one thread.
   */
  threads?: boolean;
  /** Rows per statement (each streamed where the store can); memory stays constant whatever the table size. Default 50,000. */
  pageSize?: number;
  /** How far from its position a row is searched for when checking reordering. Default 1000. */
  reorderWindow?: number;
  onProgress?: (rowsChecked: number, rowsTotal: number) => void;
}
