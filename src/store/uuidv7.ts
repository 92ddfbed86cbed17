import { randomBytes } from 'node:crypto';

const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = POOL_SIZE;

/**
 * RFC 9562 UUIDv7: a millisecond timestamp then random bits, so primary-key inserts land at the
 * right edge of the b-tree instead of scattering like v4 keys do.
 */
export function uuidv7(now: number = Date.now()): string {
  if (offset + 10 > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const hex = now.toString(16).padStart(12, '0');
  const rand = pool.subarray(offset, offset + 10);
  offset += 10;
  const b6 = ((rand[0] as number) & 0x0f) | 0x70;
  const b8 = ((rand[2] as number) & 0x3f) | 0x80;
  const tail = rand.subarray(3).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${b6.toString(16)}${hex2(rand[1] as number)}-${b8.toString(16)}${tail.slice(0, 2)}-${tail.slice(2, 14)}`;
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
