import type { CheckpointSigner } from '../writer/checkpoint-signer.js';

/** What `verify` found wrong with a chain. */
export type TamperKind =
  /** The row's content no longer matches its hash. */
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
  /** A validly signed checkpoint whose head hash differs from the row at its sequence: the chain was recomputed. */
  | 'rewritten_chain';

export interface ChainFailure {
  kind: TamperKind;
  /** The row where the failure shows (for a deletion: the first row after the gap). */
  eventId: string | null;
  chainSeq: number | null;
  detail: string;
}

export interface ChainReport {
  chainId: string;
  rowsChecked: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Rows stored in degraded form after the database rejected them (their original is verified). */
  degradedRows: number;
  checkpoints: {
    total: number;
    signed: number;
    verified: number;
    latestSeq: number | null;
    /** Sequence of the final checkpoint written at a clean shutdown, if any. */
    finalSeq: number | null;
  };
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
  /** How far checkpoint signatures could be checked. */
  signatures: 'verified' | 'unsigned' | 'not_checked' | 'none';
  notes: string[];
}

export interface VerifyOptions {
  /** Only this chain. */
  chainId?: string;
  /** Start each chain at its first row at or after this time (its link to the row before is checked). */
  since?: Date | string;
  /**
   * Key to check checkpoint signatures with (HMAC secret or Ed25519 key). With a key, every
   * checkpoint must carry a valid signature: an unsigned one is reported as forged.
   */
  signer?: CheckpointSigner | null;
  /** Rows per page; memory stays constant whatever the table size. Default 5000. */
  pageSize?: number;
  /** How far from its position a row is searched for when checking reordering. Default 1000. */
  reorderWindow?: number;
  onProgress?: (rowsChecked: number, rowsTotal: number) => void;
}
