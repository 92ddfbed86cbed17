import { EMPTY_TREE_HASH, sha256Binary } from './tree-hash.js';

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
 *
 * Hashes are kept as binary strings (`sha256Binary`): verify appends one leaf per row, and a
 * node hash into a reused buffer, handed back as a string, costs half what a Buffer would.
 */
export class CompactTree {
  private readonly edge: string[] = [];
  private readonly input = Buffer.allocUnsafe(65);
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
      tree.edge.push(Buffer.from(hex, 'hex').toString('latin1'));
      tree.heights.push(heights[i] as number);
    });
    tree.leaves = size;
    return tree;
  }

  /** The next leaf hash: 32 bytes, or those bytes as a binary string. */
  append(leaf: Uint8Array | string): void {
    let hash =
      typeof leaf === 'string'
        ? leaf
        : Buffer.from(leaf.buffer, leaf.byteOffset, leaf.length).toString('latin1');
    if (hash.length !== 32) throw new TypeError('a leaf hash is 32 bytes');
    let height = 0;
    const { edge, heights } = this;
    while (heights.length > 0 && heights[heights.length - 1] === height) {
      heights.pop();
      hash = this.node(edge.pop() as string, hash);
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
    if (last === undefined) return EMPTY_TREE_HASH;
    let hash = last;
    for (let i = edge.length - 2; i >= 0; i--) hash = this.node(edge[i] as string, hash);
    return Buffer.from(hash, 'latin1');
  }

  /** What `fromFrontier` needs to continue this tree. */
  frontier(): TreeFrontier {
    return {
      size: this.leaves,
      hashes: this.edge.map((h) => Buffer.from(h, 'latin1').toString('hex')),
    };
  }

  /** SHA-256(0x01 ‖ left ‖ right), as `nodeHash`. */
  private node(left: string, right: string): string {
    const input = this.input;
    input[0] = 0x01;
    input.write(left, 1, 32, 'latin1');
    input.write(right, 33, 32, 'latin1');
    return sha256Binary(input);
  }
}
