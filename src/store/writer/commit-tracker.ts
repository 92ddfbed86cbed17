import type { SealedAuditRecord } from '../audit-record.js';

/**
 * Knows the highest sequence number up to which every row of this writer's chain is committed,
 * even when batches commit out of order (a journaled batch replays after newer ones).
 * Checkpoints may only name such a row, or `verify` would report a truncated tail.
 */
export class CommitTracker {
  private through = 0;
  private throughHash: string | null = null;
  /** Committed runs beyond `through`, keyed by first sequence number. */
  private readonly ahead = new Map<number, { last: number; lastHash: string }>();

  constructor(private readonly chainId: string) {}

  get committedThrough(): { seq: number; hash: string | null } {
    return { seq: this.through, hash: this.throughHash };
  }

  markCommitted(records: readonly SealedAuditRecord[]): void {
    let runStart: SealedAuditRecord | null = null;
    let prev: SealedAuditRecord | null = null;
    const own = records
      .filter((r) => r.chainId === this.chainId)
      .sort((a, b) => a.chainSeq - b.chainSeq);
    for (const record of own) {
      if (prev && record.chainSeq !== prev.chainSeq + 1) {
        this.addRun(runStart as SealedAuditRecord, prev);
        runStart = null;
      }
      runStart ??= record;
      prev = record;
    }
    if (runStart && prev) this.addRun(runStart, prev);
  }

  private addRun(first: SealedAuditRecord, last: SealedAuditRecord): void {
    if (last.chainSeq <= this.through) return;
    this.ahead.set(first.chainSeq, { last: last.chainSeq, lastHash: last.hash });
    let advanced = true;
    while (advanced) {
      advanced = false;
      for (const [start, run] of this.ahead) {
        if (start > this.through + 1) continue;
        this.ahead.delete(start);
        if (run.last > this.through) {
          this.through = run.last;
          this.throughHash = run.lastHash;
          advanced = true;
        }
      }
    }
  }
}
