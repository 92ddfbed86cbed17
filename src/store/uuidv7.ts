import { randomBytes } from 'node:crypto';

const POOL_SIZE = 4096;

/**
 * RFC 9562 UUIDv7 ids: a millisecond timestamp then random bits, so primary-key inserts land at
 * the right edge of the b-tree instead of scattering like v4 keys do. Random bytes are drawn
 * 4 KiB at a time (one `randomBytes` call per 409 ids); each source owns its pool.
 */
export class UuidV7Source {
  private pool = randomBytes(POOL_SIZE);
  private offset = 0;

  next(now: number = Date.now()): string {
    if (this.offset + 10 > POOL_SIZE) {
      this.pool = randomBytes(POOL_SIZE);
      this.offset = 0;
    }
    const hex = now.toString(16).padStart(12, '0');
    const rand = this.pool.subarray(this.offset, this.offset + 10);
    this.offset += 10;
    const b6 = ((rand[0] as number) & 0x0f) | 0x70;
    const b8 = ((rand[2] as number) & 0x3f) | 0x80;
    const tail = rand.subarray(3).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${b6.toString(16)}${hex2(rand[1] as number)}-${b8.toString(16)}${tail.slice(0, 2)}-${tail.slice(2, 14)}`;
  }
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
