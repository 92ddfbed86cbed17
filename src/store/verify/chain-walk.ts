import type { HashVersion } from '../hashed-columns.js';
import { CompactTree, type TreeFrontier } from '../merkle/compact-tree.js';
import { sha256Binary } from '../merkle/tree-hash.js';
import { type PrunedRange, rangesCovering } from './pruned.js';
import type { ChainFailure } from './report.js';
import { RowChecker } from './row-check.js';
import { rowIdentity } from './verify-row.js';

export type Fail = (failure: Omit<ChainFailure, 'chainId'>) => void;

/** A tree head the rows must reproduce at its size. */
export interface ExpectedRoot {
  size: number;
  rootHash: string;
  kind: string;
  source: 'database' | 'witness';
}

/**
 * Everything a walk over one chain's rows needs, as plain data: it runs on this thread, or is
 * cloned to a worker thread.
 */
export interface WalkPlan {
  chainId: string;
  version: HashVersion;
  /** False for a chain without tree heads: its first row decides between versions 1 and 2. */
  versionSettled: boolean;
  reorderWindow: number;
  /** Rows before this one are read only for the link into it (`since`). */
  firstInRange: number;
  expectedSeq: number | null;
  expectedPrev: string | null;
  /** Rows after this are not covered by any head (counted as unanchored). */
  legacyAnchor: number;
  finalSeq: number | null;
  latestSeq: number | null;
  /** The head hash each checkpoint names for the row at its size, and whether its signature was checked. */
  heads: Array<{ seq: number; headHash: string; vouched: boolean }>;
  roots: ExpectedRoot[];
  pruned: PrunedRange[];
  /** The tree to extend (empty for a chain read from its start); null: roots are not recomputed. */
  tree: TreeFrontier | null;
  /** Where to take the frontier the next run resumes from. */
  frontierAt: number | null;
}

/** What a walk leaves for the checks after it. */
export interface WalkSummary {
  rowsChecked: number;
  firstSeq: number | null;
  lastSeq: number | null;
  lastEventId: string | null;
  degradedRows: number;
  unanchoredRows: number;
  /** The first row no head covers (its `recorded_at` gives the unanchored age). */
  unanchoredFrom: number | null;
  /** Sizes whose expected roots were recomputed (passed or failed). */
  checkedSizes: number[];
  frontier: TreeFrontier | null;
  /** Rows the fast path left to the reference check. */
  slowRows: number;
}

const PROGRESS_EVERY = 4096;

/**
 * The row-by-row checks of one chain, in sequence order: each row's hash and leaf, its link to
 * the row before, gaps (unless retention's signed prune records cover them), rows after the final
 * head, the head hash each checkpoint names, and every expected root as the tree grows.
 */
export class ChainWalk {
  private checker: RowChecker;
  private readonly tree: CompactTree | null;
  private readonly headAt: Map<number, { headHash: string; vouched: boolean }>;
  private readonly roots: Map<number, ExpectedRoot[]>;
  private readonly checkedSizes: number[] = [];
  private versionSettled: boolean;
  private expectedSeq: number | null;
  private expectedPrev: string | null;
  private previousRow: Buffer | null = null;
  private counted = 0;
  private frontier: TreeFrontier | null = null;
  private readonly summary: WalkSummary = {
    rowsChecked: 0,
    firstSeq: null,
    lastSeq: null,
    lastEventId: null,
    degradedRows: 0,
    unanchoredRows: 0,
    unanchoredFrom: null,
    checkedSizes: [],
    frontier: null,
    slowRows: 0,
  };

  constructor(
    private readonly plan: WalkPlan,
    private readonly fail: Fail,
    private readonly onRows: (n: number) => void,
  ) {
    this.checker = new RowChecker(plan.version, plan.reorderWindow);
    this.versionSettled = plan.versionSettled;
    this.expectedSeq = plan.expectedSeq;
    this.expectedPrev = plan.expectedPrev;
    this.tree = plan.tree ? CompactTree.fromFrontier(plan.tree) : null;
    // The last checkpoint at a size decides (genesis first, final last).
    this.headAt = new Map(
      plan.heads.map((h) => [h.seq, { headHash: h.headHash, vouched: h.vouched }]),
    );
    this.roots = new Map();
    for (const root of plan.roots) {
      const list = this.roots.get(root.size) ?? [];
      list.push(root);
      this.roots.set(root.size, list);
    }
    if (this.tree && plan.frontierAt === this.tree.size) this.frontier = this.tree.frontier();
    if (this.tree && this.tree.size === 0) this.checkRoot(0, null);
  }

  /** The next row, as its binary COPY tuple. */
  row(row: Buffer): void {
    const { plan, summary } = this;
    if (!this.versionSettled) {
      this.versionSettled = true;
      if (!hashesAs(row, 1) && hashesAs(row, 2))
        this.checker = new RowChecker(2, plan.reorderWindow);
    }
    const checker = this.checker;
    checker.check(row, { leaf: this.tree !== null });
    const seq = checker.seq;
    if (seq >= plan.firstInRange) {
      summary.firstSeq ??= seq;
      summary.rowsChecked += 1;
      if (++this.counted === PROGRESS_EVERY) {
        this.onRows(this.counted);
        this.counted = 0;
      }
    }
    this.checkRow(checker, seq);
    if (seq > plan.legacyAnchor && plan.finalSeq === null) {
      summary.unanchoredRows += 1;
      summary.unanchoredFrom ??= seq;
    }
    this.expectedSeq = seq + 1;
    this.expectedPrev = checker.hash;
    this.previousRow = row;
    summary.lastSeq = seq;
  }

  finish(): WalkSummary {
    if (this.counted > 0) this.onRows(this.counted);
    this.counted = 0;
    return {
      ...this.summary,
      lastEventId: this.previousEventId(),
      checkedSizes: this.checkedSizes,
      frontier: this.frontier,
      slowRows: this.checker.slowRows,
    };
  }

  private previousEventId(): string | null {
    return this.previousRow === null ? null : rowIdentity(this.previousRow).eventId;
  }

  private checkRow(row: RowChecker, seq: number): void {
    const { plan, fail } = this;
    const expectedSeq = this.expectedSeq;
    if (!row.ok) {
      fail(
        row.sealedAtSeq !== null
          ? {
              kind: 'reordered_row',
              eventId: row.eventId,
              chainSeq: seq,
              detail: `row sealed at seq ${row.sealedAtSeq} now sits at seq ${seq}`,
            }
          : {
              kind: 'modified_row',
              eventId: row.eventId,
              chainSeq: seq,
              detail: row.detail
                ? `row at seq ${seq}: ${row.detail}`
                : `row at seq ${seq} does not match its hash`,
            },
      );
    } else {
      if (row.degraded) this.summary.degradedRows += 1;
      const prunedGap =
        expectedSeq !== null && seq > expectedSeq
          ? rangesCovering(plan.pruned, expectedSeq, seq - 1)
          : null;
      if (prunedGap) this.expectedPrev = prunedGap.at(-1)?.lastHash ?? this.expectedPrev;
      if (expectedSeq !== null && seq > expectedSeq && !prunedGap) {
        const missing = seq - expectedSeq;
        const covered = plan.latestSeq !== null && expectedSeq <= plan.latestSeq;
        fail({
          kind: 'deleted_row',
          eventId: row.eventId,
          chainSeq: seq,
          detail:
            `${missing} row(s) missing before seq ${seq} (seq ${expectedSeq}${missing > 1 ? `..${seq - 1}` : ''})` +
            (covered
              ? '; a checkpoint covers them: they were written, then removed'
              : '; no checkpoint covers them, so a batch lost when the writer process crashed looks the same'),
        });
      } else if (this.expectedPrev !== null && row.prevHash !== this.expectedPrev) {
        const previous = this.previousEventId();
        fail({
          kind: 'forged_row',
          eventId: row.eventId,
          chainSeq: seq,
          detail: `row at seq ${seq} does not link to the row before it${previous ? ` (${previous})` : ''}: one of them was forged or inserted`,
        });
      }
    }
    if (plan.finalSeq !== null && seq > plan.finalSeq) {
      fail({
        kind: 'forged_row',
        eventId: row.eventId,
        chainSeq: seq,
        detail: `row at seq ${seq} follows the chain's final checkpoint (seq ${plan.finalSeq}): the writer had closed this chain`,
      });
    }
    const checkpoint = this.headAt.get(seq);
    if (checkpoint && checkpoint.headHash !== row.hash) {
      fail({
        kind: 'rewritten_chain',
        eventId: row.eventId,
        chainSeq: seq,
        detail:
          `checkpoint at seq ${seq} names head hash ${checkpoint.headHash.slice(0, 12)}…, the row holds ${row.hash.slice(0, 12)}…` +
          (checkpoint.vouched
            ? ''
            : ' (checkpoint signature not checked: the checkpoint itself may be the forgery)'),
      });
    }
    const tree = this.tree;
    if (tree) {
      // The leaf is the row as stored: a modified row changes the root, as it should.
      tree.append(row.leaf ?? unverifiableLeaf(row.hash, seq));
      if (this.roots.has(seq)) this.checkRoot(seq, row.eventId);
      if (seq === plan.frontierAt) this.frontier = tree.frontier();
    }
  }

  /** At the row whose seq is a head's size: the root over the rows present up to it. */
  private checkRoot(size: number, eventId: string | null): void {
    const expected = this.roots.get(size);
    if (!expected || !this.tree) return;
    this.checkedSizes.push(size);
    const root = this.tree.root().toString('hex');
    for (const head of expected) {
      if (head.rootHash === root) continue;
      this.fail({
        kind: 'rewritten_chain',
        eventId,
        chainSeq: size,
        detail: `the ${head.source}'s ${head.kind} tree head at size ${size} names root ${head.rootHash.slice(0, 12)}…; the rows give ${root.slice(0, 12)}…`,
      });
    }
  }
}

/** Whether a row hashes correctly under `version` (a legacy-looking chain's first row). */
function hashesAs(row: Buffer, version: HashVersion): boolean {
  const checker = new RowChecker(version, 0);
  checker.check(row, { leaf: false });
  return checker.ok;
}

/** A leaf standing for a row that does not verify: the tree then fails to reproduce its heads. */
function unverifiableLeaf(hash: string, seq: number): string {
  return sha256Binary(Buffer.from(`${hash}:${seq}:unverifiable`));
}
