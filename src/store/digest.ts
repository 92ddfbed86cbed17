import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';

// One-shot hashing (Node >= 20.12) skips a Hash object per call; older 20.x falls back.
const oneShot = (crypto as { hash?: (algorithm: string, data: string) => string }).hash;

/** SHA-256 of a string's UTF-8 bytes, lowercase hex. */
export function sha256Hex(data: string): string {
  return oneShot ? oneShot('sha256', data) : createHash('sha256').update(data).digest('hex');
}
