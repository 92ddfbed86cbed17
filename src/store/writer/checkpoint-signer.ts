import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import type { CheckpointRecord } from '../audit-record.js';
import { canonicalJson } from '../canonical-json.js';

export type CheckpointAlgorithm = CheckpointRecord['algorithm'];

/** Signs and checks checkpoints: HMAC-SHA256 with a shared secret, or Ed25519. */
export interface CheckpointSigner {
  readonly algorithm: Exclude<CheckpointAlgorithm, 'none'>;
  /** Identifies the key without revealing it. */
  readonly keyId: string;
  sign(checkpoint: Omit<CheckpointRecord, 'signature'>): string;
  verify(checkpoint: CheckpointRecord): boolean;
}

/**
 * What a checkpoint signature covers, in canonical JSON. A tree head covers every field; a legacy
 * head (written before tree heads existed) keeps the payload it was signed with.
 */
export function checkpointPayload(c: Omit<CheckpointRecord, 'signature'>): string {
  if (c.kind === 'legacy') {
    return canonicalJson({
      algorithm: c.algorithm,
      chain_id: c.chainId,
      chain_seq: c.chainSeq,
      created_at: c.createdAt,
      final: c.final,
      head_hash: c.headHash,
      key_id: c.keyId,
      service_name: c.serviceName,
    });
  }
  return canonicalJson({
    algorithm: c.algorithm,
    chain_id: c.chainId,
    created_at: c.createdAt,
    final: c.final,
    hash_version: c.hashVersion,
    head_hash: c.headHash,
    key_id: c.keyId,
    kind: c.kind,
    prev_checkpoint_hash: c.prevCheckpointHash,
    root_hash: c.rootHash,
    service_name: c.serviceName,
    tree_size: c.chainSeq,
    type: 'aitrail.tree_head/v1',
  });
}

/** The hash the next tree head of the chain names as `prevCheckpointHash`: payload and signature. */
export function checkpointHash(c: CheckpointRecord): string {
  return createHash('sha256')
    .update(checkpointPayload(c))
    .update('\n')
    .update(c.signature ?? '')
    .digest('hex');
}

/** Where a signer keeps the key material it was built from (see `signingKeyOf`). */
const SIGNING_KEY = Symbol('aitrail.signingKey');

/**
 * Builds a signer from `AITRAIL_SIGNING_KEY`-style material: a PEM Ed25519 private key (or,
 * for verification only, a public key) selects Ed25519; any other string is an HMAC secret.
 */
export function createCheckpointSigner(key: string | KeyObject): CheckpointSigner {
  let signer: CheckpointSigner;
  if (typeof key === 'string' && !key.includes('-----BEGIN')) {
    if (key.length < 16) {
      throw new TypeError('signingKey: an HMAC secret must be at least 16 characters long');
    }
    signer = hmacSigner(key);
  } else signer = ed25519Signer(key);
  // Kept out of sight (no enumerable property, no JSON) for the writer thread to rebuild it from.
  Object.defineProperty(signer, SIGNING_KEY, { value: key });
  return signer;
}

/**
 * The key material a signer made by `createCheckpointSigner` was built from, so another thread
 * can build the same signer; undefined for a signer made any other way.
 */
export function signingKeyOf(signer: CheckpointSigner): string | KeyObject | undefined {
  return (signer as { [SIGNING_KEY]?: string | KeyObject })[SIGNING_KEY];
}

function hmacSigner(secret: string): CheckpointSigner {
  const keyId = `hmac:${createHmac('sha256', secret).update('aitrail key id').digest('hex').slice(0, 16)}`;
  const mac = (payload: string) => createHmac('sha256', secret).update(payload).digest('base64');
  return {
    algorithm: 'hmac-sha256',
    keyId,
    sign: (c) => mac(checkpointPayload(c)),
    verify: (c) => c.signature !== null && safeEqual(mac(checkpointPayload(c)), c.signature),
  };
}

function ed25519Signer(key: string | KeyObject): CheckpointSigner {
  let privateKey: KeyObject | null = null;
  let publicKey: KeyObject;
  if (typeof key === 'string' && key.includes('PUBLIC KEY')) {
    publicKey = createPublicKey(key);
  } else {
    privateKey = typeof key === 'string' ? createPrivateKey(key) : key;
    publicKey = createPublicKey(privateKey);
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`signingKey: expected an Ed25519 key, got ${publicKey.asymmetricKeyType}`);
  }
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const keyId = `ed25519:${der.subarray(-32).toString('hex').slice(0, 16)}`;
  return {
    algorithm: 'ed25519',
    keyId,
    sign: (c) => {
      if (privateKey === null)
        throw new TypeError('signingKey: a public key can verify but not sign');
      return sign(null, Buffer.from(checkpointPayload(c)), privateKey).toString('base64');
    },
    verify: (c) =>
      c.signature !== null &&
      isCanonicalBase64(c.signature) &&
      verify(
        null,
        Buffer.from(checkpointPayload(c)),
        publicKey,
        Buffer.from(c.signature, 'base64'),
      ),
  };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A signature has one spelling: unused trailing bits of base64 must not give a second one. */
function isCanonicalBase64(text: string): boolean {
  return Buffer.from(text, 'base64').toString('base64') === text;
}
