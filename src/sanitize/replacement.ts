import { createHmac, randomBytes } from 'node:crypto';
import { auditRegistry } from '../pipeline/global-registry.js';
import type { ReplacementMode } from './types.js';

/** Written in place of a value whose redaction threw: nothing of the original passes through. */
export const REDACTION_FAILED = '[REDACTION_FAILED]';

/** `[REDACTED:<name>]`: the replacement in `mask` mode and for every key rule. */
export function maskMarker(name: string): string {
  return `[REDACTED:${name}]`;
}

/**
 * The HMAC key for `hash` mode: `policy.hashKey`, else `AITRAIL_REDACTION_KEY`, else a random
 * key shared by every redactor of this process. A per-process key keeps tags stable within the
 * process, so investigators can correlate rows that mention the same value, while tags cannot be
 * reversed or joined across processes (no dictionary attack on emails or phone numbers without
 * the key). Set a fixed key to correlate across restarts and instances.
 */
export function resolveHashKey(configured: string | Uint8Array | undefined): Uint8Array | string {
  if (configured !== undefined) return configured;
  const fromEnv = process.env.AITRAIL_REDACTION_KEY;
  if (fromEnv) return fromEnv;
  const registry = auditRegistry();
  registry.processHashKey ??= randomBytes(32);
  return registry.processHashKey;
}

/**
 * Builds the replacement function of one detector:
 * - `mask`   → `[REDACTED:email]`
 * - `hash`   → `[email:3f9a1c0b]`, the first 8 hex digits of HMAC-SHA256(key, value)
 * - `remove` → `''`
 */
export function createReplacement(
  name: string,
  mode: ReplacementMode,
  hashKey: Uint8Array | string,
): (secret: string) => string {
  switch (mode) {
    case 'mask': {
      const marker = maskMarker(name);
      return () => marker;
    }
    case 'hash':
      return (secret) =>
        `[${name}:${createHmac('sha256', hashKey).update(secret).digest('hex').slice(0, 8)}]`;
    case 'remove':
      return () => '';
  }
}
