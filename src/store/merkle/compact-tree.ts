import { EMPTY_TREE_HASH, nodeHash } from './tree-hash.js';

/** The right edge of a tree: the roots of its perfect subtrees, largest (leftmost) first. */
export interface TreeFrontier {
  /** Leaves in the tree. */
  size: number;
  /** One lowercase hex hash per set bit of `size`, from the highest bit down. */
  hashes: string[];
}

/**
 * The right edge of an append-only Merkle tree: one hash per perfect subtree (at most log2 n),
 * so appending a leaf and computing the root are O(log n) in time and memory.
 */
export class CompactTree {
  private readonly edge: Buffer[] = [];
  /** Height of each edge entry; heights strictly decrease from left to right. */
  private readonly heights: number[] = [];
  private leaves = 0;

  get size(): number {
    return this.leaves;
  }

  /**
   * A tree continued from a frontier someone checked before (see `frontier()`): appending the
   * leaves after it gives the same roots as rebuilding the whole tree.
   */
  static fromFrontier(frontier: TreeFrontier): CompactTree {
    const { size, hashes } = frontier;
    if (!Number.isSafeInteger(size) || size < 0)
      throw new TypeError(`frontier.size must be a whole number >= 0, got ${String(size)}`);
    const heights: number[] = [];
    for (let bit = 52; bit >= 0; bit--)
      if (Math.floor(size / 2 ** bit) % 2 === 1) heights.push(bit);
    if (!Array.isArray(hashes) || hashes.length !== heights.length)
      throw new TypeError(
        `frontier.hashes must hold ${heights.length} hash(es) for a tree of ${size} leaves`,
      );
    const tree = new CompactTree();
    hashes.forEach((hex, i) => {
      if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex))
        throw new TypeError(`frontier.hashes[${i}] must be 64 lowercase hex digits`);
      tree.edge.push(Buffer.from(hex, 'hex'));
      tree.heights.push(heights[i] as number);
    });
    tree.leaves = size;
    return tree;
  }

  append(leaf: Buffer): void {
    let hash = leaf;
    let height = 0;
    const { edge, heights } = this;
    while (heights.length > 0 && heights[heights.length - 1] === height) {
      heights.pop();
      hash = nodeHash(edge.pop() as Buffer, hash);
      height += 1;
    }
    edge.push(hash);
    heights.push(height);
    this.leaves += 1;
  }

  /** MTH of the leaves so far: the edge folded from the right (RFC 9162 splits match). */
  root(): Buffer {
    const { edge } = this;
    const last = edge[edge.length - 1];
    if (!last) return EMPTY_TREE_HASH;
    let hash = last;
    for (let i = edge.length - 2; i >= 0; i--) hash = nodeHash(edge[i] as Buffer, hash);
    return hash;
  }

  /** What `fromFrontier` needs to continue this tree. */
  frontier(): TreeFrontier {
    return { size: this.leaves, hashes: this.edge.map((h) => h.toString('hex')) };
  }
}
