/**
 * The proof primitives an independent verifier needs: RFC 9162 leaf and node hashing, the row's
 * leaf (its canonical hashed fields), and inclusion proofs checked offline.
 */
export { canonicalHashedFields, computeRowHash } from '../hash-chain.js';
export { canonicalColumns, HASHED_COLUMNS, type HashedFields } from '../hashed-columns.js';
export {
  type CheckpointSigner,
  checkpointHash,
  checkpointPayload,
  createCheckpointSigner,
} from '../writer/checkpoint-signer.js';
export { CompactTree } from './compact-tree.js';
export { inclusionPath, rootFromInclusionPath } from './inclusion.js';
export { rowLeafHash } from './leaf.js';
export {
  INCLUSION_PROOF_FORMAT,
  type InclusionProof,
  type ProofVerdict,
  verifyInclusionProof,
} from './proof.js';
export { EMPTY_TREE_HASH, leafHash, nodeHash, treeHash } from './tree-hash.js';
export { readWitnessDirectory } from './witness.js';
