import {
  type CheckpointSigner,
  createCheckpointSigner,
} from '../store/writer/checkpoint-signer.js';

/** The signer of `AITRAIL_SIGNING_KEY`, or null when none is set. */
export function signerFromEnv(): CheckpointSigner | null {
  const key = process.env.AITRAIL_SIGNING_KEY || undefined;
  return key === undefined ? null : createCheckpointSigner(key);
}
