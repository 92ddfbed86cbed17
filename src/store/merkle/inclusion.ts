import { CompactTree } from './compact-tree.js';
import { nodeHash, splitPoint } from './tree-hash.js';

/**
 * PATH(m, D[n]) of RFC 9162 section 2.1.3.1: the audit path of leaf `index` in the tree over
 * `leaves`, bottom-up. O(n) hashing once, O(log n) hashes in the result.
 */
export function inclusionPath(leaves: readonly Uint8Array[], index: number): Buffer[] {
  const builder = new InclusionPathBuilder(index, leaves.length);
  for (const leaf of leaves) builder.add(leaf as Buffer);
  return builder.path();
}

/**
 * The audit path of leaf `index` in a tree of `size` leaves, built while the leaves stream past
 * in order: each sibling is the root of a range of leaves, folded as they arrive, so memory
 * stays O(log n) whatever the tree size.
 */
export class InclusionPathBuilder {
  /** Sibling ranges in leaf order; `slot` is the position of the sibling in the bottom-up path. */
  private readonly ranges: Array<{ from: number; to: number; slot: number }> = [];
  private readonly siblings: Buffer[] = [];
  private next = 0;
  private range = 0;
  private tree = new CompactTree();
  private target: Buffer | null = null;

  constructor(
    readonly index: number,
    readonly size: number,
  ) {
    if (!Number.isSafeInteger(size) || size < 1)
      throw new TypeError(`size must be a whole number >= 1, got ${String(size)}`);
    if (!Number.isInteger(index) || index < 0 || index >= size)
      throw new TypeError(`index must be a leaf index below ${size}, got ${index}`);
    const topDown: Array<{ from: number; to: number }> = [];
    let from = 0;
    let to = size;
    while (to - from > 1) {
      const k = splitPoint(to - from);
      if (index < from + k) {
        topDown.push({ from: from + k, to });
        to = from + k;
      } else {
        topDown.push({ from, to: from + k });
        from += k;
      }
    }
    topDown.forEach((r, i) => {
      this.ranges.push({ ...r, slot: topDown.length - 1 - i });
    });
    this.ranges.sort((a, b) => a.from - b.from);
  }

  /** The next leaf hash, in order: 32 bytes, or those bytes as a binary string. */
  add(leaf: Uint8Array | string): void {
    const position = this.next++;
    if (position >= this.size) throw new RangeError(`more than ${this.size} leaves`);
    if (position === this.index) {
      this.target = typeof leaf === 'string' ? Buffer.from(leaf, 'latin1') : Buffer.from(leaf);
      return;
    }
    const range = this.ranges[this.range] as { from: number; to: number; slot: number };
    this.tree.append(leaf);
    if (position === range.to - 1) {
      this.siblings[range.slot] = this.tree.root();
      this.tree = new CompactTree();
      this.range += 1;
    }
  }

  /** The leaf at `index`, once it went past. */
  get leaf(): Buffer | null {
    return this.target;
  }

  /** The audit path, bottom-up; every leaf must have been added. */
  path(): Buffer[] {
    if (this.next !== this.size) throw new RangeError(`${this.next} of ${this.size} leaves added`);
    return this.siblings;
  }
}

/**
 * RFC 9162 section 2.1.3.2: the root an audit path leads to, or null when the path does not fit
 * a tree of `treeSize` leaves at `index`.
 */
export function rootFromInclusionPath(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  path: readonly Uint8Array[],
): Buffer | null {
  if (!Number.isInteger(index) || !Number.isInteger(treeSize) || index < 0 || index >= treeSize)
    return null;
  let fn = index;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}
