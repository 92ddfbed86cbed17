import { EMPTY_TREE_HASH, nodeHash } from './tree-hash.js';

/**
 * The right edge of an append-only Merkle tree: one hash per perfect subtree (at most log2 n),
 * so appending a leaf and computing the root are O(log n) in time and memory.
 */
export class CompactTree {
  private readonly edge: Array<{ hash: Buffer; height: number }> = [];
  private leaves = 0;

  get size(): number {
    return this.leaves;
  }

  append(leaf: Buffer): void {
    let hash = leaf;
    let height = 0;
    for (;;) {
      const top = this.edge.at(-1);
      if (!top || top.height !== height) break;
      this.edge.pop();
      hash = nodeHash(top.hash, hash);
      height += 1;
    }
    this.edge.push({ hash, height });
    this.leaves += 1;
  }

  /** MTH of the leaves so far: the edge folded from the right (RFC 9162 splits match). */
  root(): Buffer {
    const last = this.edge.at(-1);
    if (!last) return EMPTY_TREE_HASH;
    let hash = last.hash;
    for (let i = this.edge.length - 2; i >= 0; i--)
      hash = nodeHash((this.edge[i] as { hash: Buffer }).hash, hash);
    return hash;
  }
}
