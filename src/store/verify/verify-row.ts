import { canonicalColumns, type HashedColumn, type HashVersion } from '../hashed-columns.js';
import type { RowForVerify } from './rows.js';

/**
 * How verify reads a row: one tuple of `COPY … TO STDOUT (FORMAT binary)`: `prev_hash`, the
 * hashed columns in canonical order (version 2, the superset), then `hash`. Binary because the
 * database then only copies values out (no text escaping, no timestamp formatting), and the
 * canonical order on the wire lets a row's canonical JSON be written in one pass over it.
 *
 * Each column is cast to its declared type, so the layout does not depend on what the table
 * says its types are today.
 */
export const ROW_COLUMNS_V2: readonly HashedColumn[] = canonicalColumns(2);
export const PREV_HASH_FIELD = 0;
export const HASH_FIELD = ROW_COLUMNS_V2.length + 1;
export const ROW_FIELDS = ROW_COLUMNS_V2.length + 2;

/** The SELECT list of a verify row, derived from the hashed-columns declaration. */
export const ROW_SELECT = [
  'prev_hash::text',
  ...ROW_COLUMNS_V2.map((c) => `${c.column}::${c.sqlType}`),
  'hash::text',
].join(', ');

/** Index in a row of a hashed column. */
export function rowField(column: HashedColumn['column']): number {
  const index = ROW_COLUMNS_V2.findIndex((c) => c.column === column);
  if (index < 0) throw new TypeError(`no hashed column ${column}`);
  return index + 1;
}

/** The hashed columns of `version`, as a mask over `ROW_COLUMNS_V2`. */
export function columnsOfVersion(version: HashVersion): boolean[] {
  const included = new Set(canonicalColumns(version).map((c) => c.column));
  return ROW_COLUMNS_V2.map((c) => included.has(c.column));
}

/** Binary COPY's file header: this signature, then flags and the header extension's length. */
const COPY_BINARY_SIGNATURE: readonly number[] = [
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00,
];
const HEADER_LENGTH = COPY_BINARY_SIGNATURE.length + 8;

/**
 * Splits binary COPY output into rows, whatever the chunk boundaries: the header, then one
 * tuple per row (field count, then each field's length and bytes; -1 for NULL), then -1.
 */
export class BinaryRowSplitter {
  private carry: Buffer | null = null;
  private headerSeen = false;
  /** The trailer (-1) was read: the copy is complete. */
  ended = false;

  constructor(private readonly onRow: (row: Buffer) => void) {}

  push(chunk: Buffer): void {
    let data = chunk;
    if (this.carry !== null) {
      data = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    let p = 0;
    if (!this.headerSeen) {
      if (data.length < HEADER_LENGTH) {
        this.carry = Buffer.from(data);
        return;
      }
      if (COPY_BINARY_SIGNATURE.some((b, i) => data[i] !== b))
        throw new Error('not binary COPY output');
      p = HEADER_LENGTH + data.readInt32BE(COPY_BINARY_SIGNATURE.length + 4);
      this.headerSeen = true;
    }
    const length = data.length;
    while (p + 2 <= length) {
      const fields = (data[p] as number) * 256 + (data[p + 1] as number);
      if (fields === 0xffff) {
        this.ended = true;
        p += 2;
        break;
      }
      let q = p + 2;
      let complete = true;
      for (let f = 0; f < fields; f++) {
        if (q + 4 > length) {
          complete = false;
          break;
        }
        const size =
          ((data[q] as number) << 24) |
          ((data[q + 1] as number) << 16) |
          ((data[q + 2] as number) << 8) |
          (data[q + 3] as number);
        q += 4 + Math.max(size, 0);
      }
      if (!complete || q > length) break;
      // A chunk is usually one row (one CopyData message): hand it over without a new view.
      this.onRow(p === 0 && q === length ? data : data.subarray(p, q));
      p = q;
    }
    if (p < length && !this.ended) this.carry = Buffer.from(data.subarray(p));
  }

  /** Whether bytes of an unfinished row are left over. */
  get pending(): boolean {
    return this.carry !== null;
  }
}

/** Byte offsets of a row's fields: start of each value, or -1 for NULL; lengths beside. */
export function fieldBounds(row: Uint8Array, starts: Int32Array, lengths: Int32Array): boolean {
  const fields = ((row[0] as number) << 8) | (row[1] as number);
  if (fields !== ROW_FIELDS) return false;
  let p = 2;
  for (let f = 0; f < fields; f++) {
    if (p + 4 > row.length) return false;
    const size =
      ((row[p] as number) << 24) |
      ((row[p + 1] as number) << 16) |
      ((row[p + 2] as number) << 8) |
      (row[p + 3] as number) |
      0;
    p += 4;
    starts[f] = size < 0 ? -1 : p;
    lengths[f] = Math.max(size, 0);
    if (size > 0) p += size;
    if (p > row.length) return false;
  }
  return true;
}

/** The lowercase hex digit of a nibble, as a byte. */
export function hexDigit(nibble: number): number {
  return nibble < 10 ? 0x30 + nibble : 0x57 + nibble;
}

/** A uuid's 16 bytes as its text form (`8-4-4-4-12` lowercase hex) at `out[o]`; returns the end. */
export function writeUuid(src: Uint8Array, s: number, out: Uint8Array, o: number): number {
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out[o++] = 0x2d;
    const b = src[s + i] as number;
    out[o++] = hexDigit(b >> 4);
    out[o++] = hexDigit(b & 15);
  }
  return o;
}

/** A big-endian int32 (signed). */
function readInt32(src: Uint8Array, s: number): number {
  return (
    ((src[s] as number) << 24) |
    ((src[s + 1] as number) << 16) |
    ((src[s + 2] as number) << 8) |
    (src[s + 3] as number)
  );
}

/** A big-endian int64 as a JavaScript number, or NaN beyond 2^53. */
export function readInt64(src: Uint8Array, s: number): number {
  const high = readInt32(src, s);
  const low = readInt32(src, s + 4) >>> 0;
  if (high >= 0x200000 || high < -0x200000) return Number.NaN;
  return high * 4294967296 + low;
}

const MICROS_PER_DAY = 86_400_000_000;
const MICROS_PER_DAY_BIG = 86_400_000_000n;
/** Days from 1970-01-01 to 2000-01-01, Postgres's epoch. */
const POSTGRES_EPOCH_DAYS = 10_957;

/**
 * A timestamptz field (8 bytes: microseconds since 2000-01-01 UTC) written as verify's SELECT
 * used to write it, `to_char(… AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, at
 * `out[o]`: returns the end, or -1 outside years 1 to 9999 (a time no writer produced; the
 * caller treats the row as changed).
 */
export function writeTimestamp(src: Uint8Array, s: number, out: Uint8Array, o: number): number {
  const high = readInt32(src, s);
  const low = readInt32(src, s + 4) >>> 0;
  let days: number;
  let rest: number;
  if (high < 0x200000 && high >= -0x200000) {
    // Within 2^53 microseconds (±285 years of 2000): exact as a double.
    const micros = high * 4294967296 + low;
    days = Math.floor(micros / MICROS_PER_DAY);
    rest = micros - days * MICROS_PER_DAY;
  } else {
    const micros = (BigInt(high) << 32n) + BigInt(low);
    let whole = micros / MICROS_PER_DAY_BIG;
    if (micros < whole * MICROS_PER_DAY_BIG) whole -= 1n;
    days = Number(whole);
    rest = Number(micros - whole * MICROS_PER_DAY_BIG);
  }
  // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil, inverted); integer
  // arithmetic throughout (z >= 0 for every year from 1).
  const z = days + POSTGRES_EPOCH_DAYS + 719_468;
  if (z < 0) return -1;
  const era = (z / 146_097) | 0;
  const doe = z - era * 146_097;
  const yoe = ((doe - ((doe / 1460) | 0) + ((doe / 36_524) | 0) - ((doe / 146_096) | 0)) / 365) | 0;
  const doy = doe - (365 * yoe + ((yoe / 4) | 0) - ((yoe / 100) | 0));
  const mp = ((5 * doy + 2) / 153) | 0;
  const day = doy - (((153 * mp + 2) / 5) | 0) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 1 || year > 9999) return -1;
  const second = Math.floor(rest / 1_000_000);
  const micro = rest - second * 1_000_000;
  const hours = (second / 3600) | 0;
  const minutes = ((second - hours * 3600) / 60) | 0;
  const seconds = second - hours * 3600 - minutes * 60;
  o = digits(year, 4, out, o);
  out[o++] = 0x2d;
  o = digits(month, 2, out, o);
  out[o++] = 0x2d;
  o = digits(day, 2, out, o);
  out[o++] = 0x54;
  o = digits(hours, 2, out, o);
  out[o++] = 0x3a;
  o = digits(minutes, 2, out, o);
  out[o++] = 0x3a;
  o = digits(seconds, 2, out, o);
  out[o++] = 0x2e;
  o = digits(micro, 6, out, o);
  out[o++] = 0x5a;
  return o;
}

/** `value` (0 <= value < 2^31) in `width` decimal digits, zero-padded. */
function digits(value: number, width: number, out: Uint8Array, o: number): number {
  for (let i = width - 1; i >= 0; i--) {
    const tenth = (value / 10) | 0;
    out[o + i] = 0x30 + value - tenth * 10;
    value = tenth;
  }
  return o + width;
}

/** `writeTimestamp` as a string; a time outside years 1 to 9999 gives a text no writer wrote. */
export function timestampText(micros: bigint): string {
  const field = Buffer.alloc(8);
  field.writeBigInt64BE(micros);
  const text = Buffer.alloc(32);
  const end = writeTimestamp(field, 0, text, 0);
  return end < 0 ? `out of range: ${micros} µs from 2000-01-01` : text.toString('latin1', 0, end);
}

/** The row as the object the reference row check (`checkRowHash`) takes: the slow, general path. */
export function rowOfTuple(row: Uint8Array): RowForVerify | null {
  const starts = new Int32Array(ROW_FIELDS);
  const lengths = new Int32Array(ROW_FIELDS);
  if (!fieldBounds(row, starts, lengths)) return null;
  const bytes = Buffer.from(row.buffer, row.byteOffset, row.length);
  const text = (field: number): string | null => {
    const start = starts[field] as number;
    return start < 0 ? null : bytes.toString('utf8', start, start + (lengths[field] as number));
  };
  const out: Record<string, unknown> = {
    prev_hash: text(PREV_HASH_FIELD) ?? '',
    hash: text(HASH_FIELD) ?? '',
    recorded_at: '',
  };
  for (let i = 0; i < ROW_COLUMNS_V2.length; i++) {
    const column = ROW_COLUMNS_V2[i] as HashedColumn;
    const field = i + 1;
    const start = starts[field] as number;
    const length = lengths[field] as number;
    if (start < 0) {
      out[column.column] = null;
      continue;
    }
    switch (column.sqlType) {
      case 'uuid': {
        if (length !== 16) return null;
        const buffer = new Uint8Array(36);
        writeUuid(bytes, start, buffer, 0);
        out[column.column] = Buffer.from(buffer).toString('latin1');
        break;
      }
      case 'timestamptz':
        if (length !== 8) return null;
        out[column.column] = timestampText(bytes.readBigInt64BE(start));
        break;
      case 'int8':
        if (length !== 8) return null;
        out[column.column] = String(readInt64(bytes, start));
        break;
      case 'jsonb':
        // jsonb's binary form: a version byte (1), then its text.
        if (length < 1 || bytes[start] !== 1) return null;
        out[column.column] = bytes.toString('utf8', start + 1, start + length);
        break;
      default:
        out[column.column] = text(field);
    }
  }
  if (out.metadata === null) out.metadata = 'null';
  return out as RowForVerify;
}

/** A row's event id and sequence number, for failure messages and paging. */
export function rowIdentity(row: Uint8Array): { eventId: string | null; seq: number } {
  const starts = new Int32Array(ROW_FIELDS);
  const lengths = new Int32Array(ROW_FIELDS);
  if (!fieldBounds(row, starts, lengths)) return { eventId: null, seq: Number.NaN };
  const bytes = Buffer.from(row.buffer, row.byteOffset, row.length);
  const event = EVENT_ID_FIELD;
  const seqField = CHAIN_SEQ_FIELD;
  const eventStart = starts[event] as number;
  const seqStart = starts[seqField] as number;
  return {
    eventId:
      eventStart < 0
        ? null
        : bytes.toString('utf8', eventStart, eventStart + (lengths[event] as number)),
    seq: seqStart < 0 || lengths[seqField] !== 8 ? Number.NaN : readInt64(bytes, seqStart),
  };
}

export const EVENT_ID_FIELD = rowField('event_id');
export const CHAIN_SEQ_FIELD = rowField('chain_seq');
