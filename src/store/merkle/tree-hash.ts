import * as crypto from 'node:crypto';

/**
 * RFC 9162 section 2.1.1 hashing with SHA-256: distinct prefixes for leaves (0x00) and interior
 * nodes (0x01), so no leaf can pose as a node (second-preimage resistance).
 */
const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

// One-shot hashing (Node >= 20.12) skips a Hash object per call: a node hash is on every
// append and every verified row. Older 20.x falls back to a Hash object.
const oneShot = (
  crypto as {
    hash?: <E extends 'buffer' | 'hex' | 'latin1'>(
      algorithm: string,
      data: Uint8Array,
      outputEncoding: E,
    ) => E extends 'buffer' ? Buffer : string;
  }
).hash;

/** SHA-256 of `data` as a new Buffer. */
export function sha256(data: Uint8Array): Buffer {
  return oneShot
    ? oneShot('sha256', data, 'buffer')
    : crypto.createHash('sha256').update(data).digest();
}

/**
 * SHA-256 of `data` as a binary string (one character per byte, Latin-1): the cheapest form
 * Node hands a digest back in, about half the cost of a Buffer for a short input.
 */
export function sha256Binary(data: Uint8Array): string {
  return oneShot
    ? oneShot('sha256', data, 'latin1')
    : crypto.createHash('sha256').update(data).digest().toString('latin1');
}

/** SHA-256 of `data` as lowercase hex. */
export function sha256Hex(data: Uint8Array): string {
  return oneShot
    ? oneShot('sha256', data, 'hex')
    : crypto.createHash('sha256').update(data).digest('hex');
}

/** SHA-256(0x00 ‖ leaf bytes). A row's leaf bytes are the UTF-8 of its canonical hashed fields. */
export function leafHash(leafBytes: string | Uint8Array): Buffer {
  let input: Buffer;
  if (typeof leafBytes === 'string') {
    input = Buffer.allocUnsafe(1 + Buffer.byteLength(leafBytes, 'utf8'));
    input.write(leafBytes, 1, 'utf8');
  } else {
    input = Buffer.allocUnsafe(1 + leafBytes.length);
    input.set(leafBytes, 1);
  }
  input[0] = LEAF_PREFIX;
  return sha256(input);
}

/** SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(1 + left.length + right.length);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return sha256(input);
}

/** The tree hash of the empty tree: SHA-256 of the empty string. */
export const EMPTY_TREE_HASH: Buffer = crypto.createHash('sha256').digest();

/** Largest power of two strictly smaller than `n` (n >= 2): where RFC 9162 splits a tree. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) over leaf hashes held in memory: the leaves folded left to right, O(log n) memory. */
export function treeHash(leaves: readonly Uint8Array[], from = 0, to = leaves.length): Buffer {
  const n = to - from;
  if (n === 0) return EMPTY_TREE_HASH;
  if (n === 1) return Buffer.from(leaves[from] as Uint8Array);
  const edge: Buffer[] = [];
  const heights: number[] = [];
  for (let i = from; i < to; i++) {
    let hash = leaves[i] as Buffer;
    let height = 0;
    while (heights.length > 0 && heights[heights.length - 1] === height) {
      heights.pop();
      hash = nodeHash(edge.pop() as Buffer, hash);
      height += 1;
    }
    edge.push(hash);
    heights.push(height);
  }
  let root = edge[edge.length - 1] as Buffer;
  for (let i = edge.length - 2; i >= 0; i--) root = nodeHash(edge[i] as Buffer, root);
  return root;
}
