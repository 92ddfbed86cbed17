import { nodeHash, splitPoint, treeHash } from './tree-hash.js';

/**
 * PATH(m, D[n]) of RFC 9162 section 2.1.3.1: the audit path of leaf `index` in the tree over
 * `leaves`, bottom-up. O(n) hashing once, O(log n) hashes in the result.
 */
export function inclusionPath(leaves: readonly Uint8Array[], index: number): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) {
    throw new TypeError(`index must be a leaf index below ${leaves.length}, got ${index}`);
  }
  const path: Buffer[] = [];
  let from = 0;
  let to = leaves.length;
  let m = index;
  const topDown: Buffer[] = [];
  while (to - from > 1) {
    const k = splitPoint(to - from);
    if (m < k) {
      topDown.push(treeHash(leaves, from + k, to));
      to = from + k;
    } else {
      topDown.push(treeHash(leaves, from, from + k));
      from += k;
      m -= k;
    }
  }
  for (let i = topDown.length - 1; i >= 0; i--) path.push(topDown[i] as Buffer);
  return path;
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
