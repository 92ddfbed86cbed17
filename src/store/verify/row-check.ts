import { AitrailError } from '../../errors.js';
import type { HashVersion } from '../hashed-columns.js';
import { rowLeafHash } from '../merkle/leaf.js';
import { sha256Binary, sha256Hex } from '../merkle/tree-hash.js';
import { JsonbWriter } from './jsonb-canonical.js';
import { checkRowHash } from './rows.js';
import {
  CHAIN_SEQ_FIELD,
  columnsOfVersion,
  EVENT_ID_FIELD,
  fieldBounds,
  HASH_FIELD,
  hexDigit,
  PREV_HASH_FIELD,
  ROW_COLUMNS_V2,
  ROW_FIELDS,
  readInt64,
  rowIdentity,
  rowOfTuple,
  writeTimestamp,
  writeUuid,
} from './verify-row.js';

const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const QUOTE = 0x22;

const SKIPPED = 0;
const TEXT = 1;
const UUID = 2;
const TIMESTAMP = 3;
const INTEGER = 4;
const JSONB = 5;

/** How each field of a verify row is written into the canonical JSON, for one hash version. */
interface RowPlan {
  kinds: Uint8Array;
  /** `{"action":`, `,"actor_id":`, …: the bytes before each written field. */
  prefixes: Uint8Array[];
}

function planOf(version: HashVersion): RowPlan {
  const included = columnsOfVersion(version);
  const kinds = new Uint8Array(ROW_FIELDS);
  const prefixes: Uint8Array[] = [];
  let first = true;
  ROW_COLUMNS_V2.forEach((c, i) => {
    const field = i + 1;
    prefixes[field] = new Uint8Array(0);
    if (!included[i]) return;
    kinds[field] =
      c.sqlType === 'uuid'
        ? UUID
        : c.sqlType === 'timestamptz'
          ? TIMESTAMP
          : c.sqlType === 'int8'
            ? INTEGER
            : c.sqlType === 'jsonb'
              ? JSONB
              : TEXT;
    prefixes[field] = Buffer.from(`${first ? '{' : ','}"${c.column}":`);
    first = false;
  });
  return { kinds, prefixes };
}

/**
 * Checks one row, given as its binary COPY tuple (see `verify-row.ts`): its hash over its
 * canonical hashed fields, and its Merkle leaf. The canonical JSON is written byte by byte from
 * the tuple into a reused buffer laid out as `prev_hash ‖ "\n" ‖ canonical JSON`, so the chain
 * hash and (the newline replaced by 0x00) the leaf hash are two one-shot SHA-256 calls over it.
 *
 * A row the fast path cannot write, or whose hash does not match, is checked again by the
 * reference check (`checkRowHash`: JSON.parse, canonicalJson), which decides. What the fast path
 * accepts is byte for byte what the reference would hash: it only ever writes a JSON
 * serialisation of the values the database returned.
 *
 * The result of the last `check` is held in this object's fields (no allocation per row).
 */
export class RowChecker {
  private readonly plan: RowPlan;
  private readonly starts = new Int32Array(ROW_FIELDS);
  private readonly lengths = new Int32Array(ROW_FIELDS);
  private readonly jsonb = new JsonbWriter();
  private row: Uint8Array = new Uint8Array(0);

  seq = 0;
  ok = false;
  /** Stored in degraded form, checked against its preserved original. */
  degraded = false;
  /** When not ok: the position the row hashes correctly at (it was moved), if found. */
  sealedAtSeq: number | null = null;
  detail: string | undefined = undefined;
  /** The row's `hash` and `prev_hash` columns as stored. */
  hash = '';
  prevHash = '';
  /**
   * RFC 9162 leaf hash of the row's canonical fields, as a binary string (`sha256Binary`); null
   * when the row does not verify.
   */
  leaf: string | null = null;
  /** Rows the fast path could not decide (checked by the reference path instead). */
  slowRows = 0;
  /** End of the fast path's canonical JSON in its buffer; -1: the reference path decided. */
  private canonicalEnd = -1;
  private slowCanonical = '';

  constructor(
    readonly version: HashVersion,
    private readonly reorderWindow: number,
  ) {
    this.plan = planOf(version);
  }

  /** The row's event id (decoded on demand: most rows never need it). */
  get eventId(): string {
    const start = this.starts[EVENT_ID_FIELD] as number;
    if (start < 0) return '';
    const row = this.row;
    return Buffer.from(row.buffer, row.byteOffset, row.length).toString(
      'utf8',
      start,
      start + (this.lengths[EVENT_ID_FIELD] as number),
    );
  }

  /** The canonical hashed fields the fast path writes for `row`, or null where it gives up. */
  canonicalText(row: Uint8Array): string | null {
    this.row = row;
    const end = this.write(row);
    return end < 0 ? null : this.jsonb.out.toString('utf8', 65, end);
  }

  /** The canonical hashed fields (the leaf bytes) of the row last checked, when it was ok. */
  get canonical(): string {
    return this.canonicalEnd < 0
      ? this.slowCanonical
      : this.jsonb.out.toString('utf8', 65, this.canonicalEnd);
  }

  check(row: Uint8Array, { leaf = true }: { leaf?: boolean } = {}): void {
    this.row = row;
    this.canonicalEnd = -1;
    this.slowCanonical = '';
    this.degraded = false;
    this.sealedAtSeq = null;
    this.detail = undefined;
    this.leaf = null;
    const end = this.write(row);
    if (end > 0) {
      const out = this.jsonb.out;
      const hashAt = this.starts[HASH_FIELD] as number;
      this.prevHash = out.toString('latin1', 0, 64);
      this.hash = (row as Buffer).toString('latin1', hashAt, hashAt + 64);
      if (sha256Hex(out.subarray(0, end)) === this.hash) {
        this.ok = true;
        this.canonicalEnd = end;
        if (leaf) {
          out[64] = 0x00;
          this.leaf = sha256Binary(out.subarray(64, end));
        }
        return;
      }
    }
    this.slowCheck(row, leaf);
  }

  private slowCheck(row: Uint8Array, leaf: boolean): void {
    this.slowRows += 1;
    const fields = rowOfTuple(row);
    const identity = rowIdentity(row);
    if (fields === null || !Number.isSafeInteger(identity.seq)) {
      throw new AitrailError(
        'CHAIN_BROKEN',
        `the database returned a row verify cannot read (event ${identity.eventId ?? 'unknown'}): not the columns and types it asked for`,
      );
    }
    this.seq = identity.seq;
    this.hash = fields.hash;
    this.prevHash = fields.prev_hash;
    fieldBounds(row, this.starts, this.lengths);
    const check = checkRowHash(fields, identity.seq, this.reorderWindow, this.version);
    this.ok = check.ok;
    if (check.ok) {
      this.degraded = check.degraded;
      this.slowCanonical = check.canonical;
      if (leaf) this.leaf = rowLeafHash(check.canonical).toString('latin1');
    } else {
      this.sealedAtSeq = check.sealedAtSeq;
      this.detail = check.detail;
    }
  }

  /**
   * Writes `prev_hash ‖ "\n" ‖ canonical JSON` into the buffer; returns its length, or -1 when
   * the row holds something the fast path does not write (the reference path decides).
   */
  private write(row: Uint8Array): number {
    const { starts, lengths } = this;
    if (!fieldBounds(row, starts, lengths)) return -1;
    this.jsonb.reserve(row.length);
    const out = this.jsonb.out;
    const { kinds, prefixes } = this.plan;
    this.seq = 0;
    const prevAt = starts[PREV_HASH_FIELD] as number;
    if (prevAt < 0 || lengths[PREV_HASH_FIELD] !== 64 || lengths[HASH_FIELD] !== 64) return -1;
    for (let i = 0; i < 64; i++) out[i] = row[prevAt + i] as number;
    out[64] = NEWLINE;
    let o = 65;
    for (let field = 1; field < HASH_FIELD; field++) {
      const kind = kinds[field];
      if (kind === SKIPPED) continue;
      const prefix = prefixes[field] as Uint8Array;
      for (let i = 0; i < prefix.length; i++) out[o++] = prefix[i] as number;
      const start = starts[field] as number;
      const length = lengths[field] as number;
      if (start < 0) {
        out[o++] = 0x6e;
        out[o++] = 0x75;
        out[o++] = 0x6c;
        out[o++] = 0x6c;
        continue;
      }
      if (kind === TEXT) {
        o = writeJsonString(row, start, start + length, out, o);
      } else if (kind === UUID) {
        if (length !== 16) return -1;
        out[o++] = QUOTE;
        o = writeUuid(row, start, out, o);
        out[o++] = QUOTE;
      } else if (kind === TIMESTAMP) {
        if (length !== 8) return -1;
        out[o++] = QUOTE;
        o = writeTimestamp(row, start, out, o);
        if (o < 0) return -1;
        out[o++] = QUOTE;
      } else if (kind === INTEGER) {
        if (length !== 8) return -1;
        const value = readInt64(row, start);
        if (!(value >= 1)) return -1;
        if (field === CHAIN_SEQ_FIELD) this.seq = value;
        o += out.write(String(value), o, 'latin1');
      } else {
        // jsonb's binary form: a version byte (1), then its text.
        if (length < 1 || row[start] !== 1) return -1;
        out[o++] = QUOTE;
        o = this.jsonb.write(row, start + 1, start + length, o);
        if (o < 0) return -1;
        out[o++] = QUOTE;
      }
    }
    // chain_seq is in every version: a row without one is not a verify row.
    if (this.seq < 1) return -1;
    out[o++] = 0x7d;
    return o;
  }
}

/** `JSON.stringify` of the UTF-8 text `src[from, to)`, at `out[o]`; returns the end. */
function writeJsonString(
  src: Uint8Array,
  from: number,
  to: number,
  out: Buffer,
  o: number,
): number {
  out[o++] = QUOTE;
  for (let p = from; p < to; p++) {
    const b = src[p] as number;
    // Nearly every byte: printable, neither a quote nor a backslash.
    if (b > QUOTE ? b !== BACKSLASH : b >= 0x20 && b !== QUOTE) {
      out[o++] = b;
      continue;
    }
    out[o++] = BACKSLASH;
    if (b === QUOTE || b === BACKSLASH) out[o++] = b;
    else if (b === 0x08) out[o++] = 0x62;
    else if (b === 0x09) out[o++] = 0x74;
    else if (b === 0x0a) out[o++] = 0x6e;
    else if (b === 0x0c) out[o++] = 0x66;
    else if (b === 0x0d) out[o++] = 0x72;
    else {
      out[o++] = 0x75;
      out[o++] = 0x30;
      out[o++] = 0x30;
      out[o++] = hexDigit(b >> 4);
      out[o++] = hexDigit(b & 15);
    }
  }
  out[o++] = QUOTE;
  return o;
}
