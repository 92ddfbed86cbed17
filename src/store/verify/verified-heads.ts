import type { CheckpointRecord } from '../audit-record.js';
import { CompactTree, type TreeFrontier } from '../merkle/compact-tree.js';

export const VERIFIED_HEADS_FORMAT = 'aitrail.verified_heads/v1';

/** One chain as a verify run left it: the newest tree head it verified, and the tree at it. */
export interface VerifiedChain {
  /** The signed tree head, exactly as stored (its signature and predecessor included). */
  head: CheckpointRecord;
  /**
   * The right edge of the chain's Merkle tree at the head's size: enough to extend the tree with
   * the rows after it. Null when the rows could not rebuild the tree (retention cut it).
   */
  frontier: TreeFrontier | null;
}

/**
 * What makes `verify` incremental. It must live outside the database it vouches for: a
 * database that could rewrite it could make any rewrite look verified.
 */
export interface VerifiedHeads {
  format: typeof VERIFIED_HEADS_FORMAT;
  /** The key the heads' signatures were checked with; null: none was given. */
  keyId: string | null;
  /** When the run that wrote it ended (for people; verify does not rely on it). */
  verifiedAt: string;
  chains: Record<string, VerifiedChain>;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * A verified-heads document read back (from a file), checked field by field: a malformed one is
 * a `TypeError` naming the field, never a silently weaker verify.
 */
export function parseVerifiedHeads(value: unknown, what = 'verified heads'): VerifiedHeads {
  const fail = (message: string): never => {
    throw new TypeError(`${what}: ${message}`);
  };
  if (value === null || typeof value !== 'object') fail('not a JSON object');
  const doc = value as Partial<VerifiedHeads>;
  if (doc.format !== VERIFIED_HEADS_FORMAT) fail(`format must be "${VERIFIED_HEADS_FORMAT}"`);
  if (doc.keyId !== null && typeof doc.keyId !== 'string') fail('keyId must be a string or null');
  if (typeof doc.verifiedAt !== 'string') fail('verifiedAt must be a string');
  if (doc.chains === null || typeof doc.chains !== 'object' || Array.isArray(doc.chains))
    fail('chains must be an object keyed by chain id');
  const chains: Record<string, VerifiedChain> = {};
  for (const [chainId, entry] of Object.entries(doc.chains as object)) {
    const at = `chains[${JSON.stringify(chainId)}]`;
    const chain = entry as Partial<VerifiedChain> | null;
    const head = chain?.head as Partial<CheckpointRecord> | undefined;
    if (!head || typeof head !== 'object') fail(`${at}.head is missing`);
    const h = head as CheckpointRecord;
    if (h.chainId !== chainId) fail(`${at}.head names chain ${JSON.stringify(h.chainId)}`);
    if (h.kind !== 'genesis' && h.kind !== 'periodic' && h.kind !== 'final')
      fail(`${at}.head.kind must be genesis, periodic or final`);
    if (!Number.isSafeInteger(h.chainSeq) || h.chainSeq < 0)
      fail(`${at}.head.chainSeq must be a whole number >= 0`);
    if (typeof h.headHash !== 'string' || typeof h.rootHash !== 'string' || !HEX64.test(h.rootHash))
      fail(`${at}.head must carry headHash and a 64-hex rootHash`);
    if (h.hashVersion !== 1 && h.hashVersion !== 2) fail(`${at}.head.hashVersion must be 1 or 2`);
    let frontier: TreeFrontier | null = null;
    if (chain?.frontier != null) {
      if (chain.frontier.size !== h.chainSeq)
        fail(`${at}.frontier.size must equal head.chainSeq (${h.chainSeq})`);
      let tree: CompactTree;
      try {
        tree = CompactTree.fromFrontier(chain.frontier);
      } catch (error) {
        return fail(`${at}.${(error as Error).message}`);
      }
      // The frontier must be the tree the head signs: else the file was edited or corrupted.
      if (tree.root().toString('hex') !== h.rootHash)
        fail(`${at}.frontier does not lead to the head's root`);
      frontier = tree.frontier();
    }
    chains[chainId] = { head: { ...h }, frontier };
  }
  return {
    format: VERIFIED_HEADS_FORMAT,
    keyId: doc.keyId ?? null,
    verifiedAt: doc.verifiedAt as string,
    chains,
  };
}
