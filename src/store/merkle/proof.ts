import type { CheckpointRecord } from '../audit-record.js';
import { canonicalHashedFields } from '../hash-chain.js';
import type { HashedFields, HashVersion } from '../hashed-columns.js';
import type { CheckpointSigner } from '../writer/checkpoint-signer.js';
import { rootFromInclusionPath } from './inclusion.js';
import { rowLeafHash } from './leaf.js';

export const INCLUSION_PROOF_FORMAT = 'aitrail.inclusion_proof/v1';

/**
 * Evidence that one row is in a chain's signed tree head, checkable with no database: the row's
 * canonical hashed fields (its leaf bytes), the audit path from its leaf to the root (O(log n)
 * hashes), and the signed tree head.
 */
export interface InclusionProof {
  format: typeof INCLUSION_PROOF_FORMAT;
  eventId: string;
  chainId: string;
  chainSeq: number;
  /** 0-based leaf index: `chainSeq - 1`. */
  leafIndex: number;
  hashVersion: HashVersion;
  /** The row's canonical hashed fields: SHA-256(0x00 ‖ these UTF-8 bytes) is its leaf hash. */
  canonicalFields: string;
  leafHash: string;
  /** Sibling hashes, bottom-up (RFC 9162 section 2.1.3). */
  auditPath: string[];
  treeHead: CheckpointRecord;
  /** The key the tree head is signed with (for the verifier to pick the matching public key). */
  keyId: string | null;
}

export type ProofVerdict =
  | { ok: true; treeSize: number; keyId: string }
  | { ok: false; reason: string };

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Checks a proof offline: the fields are canonical and name the proof's row, the leaf hash is
 * theirs, the audit path leads to the tree head's root, and the head's signature verifies with
 * `signer` (an Ed25519 public key, or the HMAC secret). Any changed byte fails.
 */
export function verifyInclusionProof(
  proof: unknown,
  options: { signer: CheckpointSigner },
): ProofVerdict {
  if (!options?.signer || typeof options.signer.verify !== 'function')
    throw new TypeError('verifyInclusionProof: options.signer must be a CheckpointSigner');
  const fail = (reason: string): ProofVerdict => ({ ok: false, reason });
  const p = proof as Partial<InclusionProof> | null;
  if (p === null || typeof p !== 'object' || p.format !== INCLUSION_PROOF_FORMAT)
    return fail(`not an ${INCLUSION_PROOF_FORMAT} document`);
  if (
    typeof p.eventId !== 'string' ||
    typeof p.chainId !== 'string' ||
    !Number.isSafeInteger(p.chainSeq) ||
    (p.chainSeq as number) < 1 ||
    p.leafIndex !== (p.chainSeq as number) - 1 ||
    (p.hashVersion !== 1 && p.hashVersion !== 2) ||
    typeof p.canonicalFields !== 'string' ||
    typeof p.leafHash !== 'string' ||
    !Array.isArray(p.auditPath) ||
    !p.auditPath.every((h) => typeof h === 'string' && HEX64.test(h)) ||
    p.treeHead === null ||
    typeof p.treeHead !== 'object'
  )
    return fail('the proof is missing fields or has fields of the wrong type');
  let fields: HashedFields;
  try {
    fields = JSON.parse(p.canonicalFields) as HashedFields;
  } catch {
    return fail('canonicalFields is not JSON');
  }
  if (canonicalHashedFields(fields, p.hashVersion) !== p.canonicalFields)
    return fail('canonicalFields is not in canonical form');
  if (
    fields.event_id !== p.eventId ||
    fields.chain_id !== p.chainId ||
    fields.chain_seq !== p.chainSeq
  )
    return fail('canonicalFields name another row than the proof');
  const leaf = rowLeafHash(p.canonicalFields);
  if (leaf.toString('hex') !== p.leafHash)
    return fail('leafHash is not the hash of canonicalFields');
  const head = p.treeHead;
  if (head.chainId !== p.chainId || head.kind === 'legacy' || typeof head.rootHash !== 'string')
    return fail('the tree head is not a tree head of this chain');
  if (!Number.isSafeInteger(head.chainSeq) || head.chainSeq < p.chainSeq)
    return fail('the tree head does not cover the row');
  if (head.hashVersion !== p.hashVersion) return fail('the tree head hashes rows another way');
  const root = rootFromInclusionPath(
    leaf,
    p.leafIndex,
    head.chainSeq,
    p.auditPath.map((h) => Buffer.from(h, 'hex')),
  );
  if (root === null || root.toString('hex') !== head.rootHash)
    return fail("the audit path does not lead to the tree head's root");
  if (head.keyId !== options.signer.keyId || p.keyId !== head.keyId)
    return fail(`the tree head is signed by key ${head.keyId}, not ${options.signer.keyId}`);
  if (!options.signer.verify(head)) return fail("the tree head's signature does not verify");
  return { ok: true, treeSize: head.chainSeq, keyId: options.signer.keyId };
}
