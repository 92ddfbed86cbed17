import { randomBytes } from 'node:crypto';

const POOL_BYTES = 16 * 1024;

/**
 * Random hex from one `randomBytes` call per 16 KiB instead of one per record: a record's three
 * salts cost a slice of a buffer, not a trip into the CSPRNG. One per writer.
 */
export class RandomPool {
  private pool: Buffer = Buffer.alloc(0);
  private offset = 0;

  /** `bytes` fresh random bytes as lowercase hex; no byte is ever handed out twice. */
  hex(bytes: number): string {
    if (this.offset + bytes > this.pool.length) {
      this.pool = randomBytes(Math.max(POOL_BYTES, bytes));
      this.offset = 0;
    }
    const hex = this.pool.toString('hex', this.offset, this.offset + bytes);
    this.offset += bytes;
    return hex;
  }
}
