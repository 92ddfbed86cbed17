import { createCheckpointSigner } from '../store/writer/checkpoint-signer.js';
import { UsageError } from './usage-error.js';

/** The signer for `AITRAIL_SIGNING_KEY`, or null; a key that cannot be used is a configuration error (exit 2). */
export function signerFromEnv(
  env: NodeJS.ProcessEnv,
): ReturnType<typeof createCheckpointSigner> | null {
  const key = env.AITRAIL_SIGNING_KEY || undefined;
  if (key === undefined) return null;
  try {
    return createCheckpointSigner(key);
  } catch (error) {
    throw new UsageError(
      `AITRAIL_SIGNING_KEY: ${(error as Error).message.replace(/^signingKey: /, '')}`,
    );
  }
}
