import type { HashVersion } from '../hashed-columns.js';
import { rowLeafHash } from '../merkle/leaf.js';
import { sha256, sha256Hex } from '../merkle/tree-hash.js';
import {
  columnsOfVersion,
  HASH_FIELD,
  LINE_COLUMNS,
  LINE_FIELDS,
  lineField,
  rowOfLine,
  unescapeField,
} from './copy-line.js';
import { canonicalJsonbInto, type JsonbOutput } from './jsonb-canonical.js';
import { checkRowHash } from './rows.js';

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const HEX = Buffer.from('0123456789abcdef');

const TEXT = 0;
const INTEGER = 1;
const JSONB = 2;
const SKIPPED = 3;

/** How each line field is written into the canonical JSON, for one hash version. */
interface LinePlan {
  kinds: Uint8Array;
  /** `{"action":`, `,"actor_id":`, …: the bytes before each written field. */
  prefixes: Buffer[];
}

function planOf(version: HashVersion): LinePlan {
  const included = columnsOfVersion(version);
  const kinds = new Uint8Array(LINE_FIELDS);
  const prefixes: Buffer[] = [];
  let first = true;
  LINE_COLUMNS.forEach((c, i) => {
    const field = i + 1;
    if (!included[i]) {
      kinds[field] = SKIPPED;
      prefixes[field] = Buffer.alloc(0);
      return;
    }
    kinds[field] = c.sqlType === 'int8' ? INTEGER : c.sqlType === 'jsonb' ? JSONB : TEXT;
    prefixes[field] = Buffer.from(`${first ? '{' : ','}"${c.column}":`);
    first = false;
  });
  return { kinds, prefixes };
}

const EVENT_ID_FIELD = lineField('event_id');

/**
 * Checks one row, given as its COPY text line (see `copy-line.ts`): its hash over its canonical
 * hashed fields, and its Merkle leaf. The canonical JSON is written byte by byte straight from the
 * line into a reused buffer laid out as `prev_hash ‖ "\n" ‖ canonical JSON`, so the chain hash and
 * (with the newline replaced by 0x00) the leaf hash are two one-shot SHA-256 calls over it.
 *
 * A row the fast path cannot write, or whose hash does not match, is checked again by the
 * reference check (`checkRowHash`), which decides: what the fast path accepts is, byte for byte,
 * what the reference would have hashed.
 *
 * The result of the last `check` is held in this object's fields (no allocation per row).
 */
export class LineChecker {
  private readonly plan: LinePlan;
  private readonly jsonb: JsonbOutput = {
    out: Buffer.allocUnsafe(64 * 1024),
    spare: Buffer.allocUnsafe(64 * 1024),
    members: new Int32Array(4 * 4096),
  };
  private unescaped = Buffer.allocUnsafe(16 * 1024);

  private line: Uint8Array = Buffer.alloc(0);
  private eventIdStart = 0;
  private eventIdEnd = 0;
  private hashStart = 0;

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
  /** RFC 9162 leaf hash of the row's canonical fields; null when the row does not verify. */
  leaf: Buffer | null = null;
  /** Rows the fast path could not decide (checked by the reference path instead). */
  slowRows = 0;

  constructor(
    readonly version: HashVersion,
    private readonly reorderWindow: number,
  ) {
    this.plan = planOf(version);
  }

  /** The row's event id (decoded on demand: most rows never need it). */
  get eventId(): string {
    return unescapeField(this.line, this.eventIdStart, this.eventIdEnd) ?? '';
  }

  /** The canonical hashed fields the fast path writes for `line`, or null where it gives up. */
  canonicalText(line: Uint8Array): string | null {
    const end = this.write(line);
    return end < 0 ? null : this.jsonb.out.toString('utf8', 65, end);
  }

  check(line: Uint8Array, { leaf = true }: { leaf?: boolean } = {}): void {
    this.line = line;
    this.degraded = false;
    this.sealedAtSeq = null;
    this.detail = undefined;
    this.leaf = null;
    const end = this.write(line);
    if (end > 0) {
      const out = this.jsonb.out;
      this.prevHash = out.toString('latin1', 0, 64);
      this.hash = lineText(line, this.hashStart);
      if (sha256Hex(out.subarray(0, end)) === this.hash) {
        this.ok = true;
        if (leaf) {
          out[64] = 0x00;
          this.leaf = sha256(out.subarray(64, end));
        }
        return;
      }
    }
    this.slowCheck(line, leaf);
  }

  private slowCheck(line: Uint8Array, leaf: boolean): void {
    this.slowRows += 1;
    const row = rowOfLine(line);
    const seq = Number(row.chain_seq);
    this.seq = seq;
    this.hash = row.hash;
    this.prevHash = row.prev_hash;
    this.setEventIdBounds(line);
    const check = checkRowHash(row, seq, this.reorderWindow, this.version);
    this.ok = check.ok;
    if (check.ok) {
      this.degraded = check.degraded;
      if (leaf) this.leaf = rowLeafHash(check.canonical);
    } else {
      this.sealedAtSeq = check.sealedAtSeq;
      this.detail = check.detail;
    }
  }

  private setEventIdBounds(line: Uint8Array): void {
    let start = 0;
    for (let field = 0; field < EVENT_ID_FIELD; field++) {
      const tab = indexOf(line, TAB, start);
      start = tab < 0 ? line.length : tab + 1;
    }
    const tab = indexOf(line, TAB, start);
    this.eventIdStart = start;
    this.eventIdEnd = tab < 0 ? start : tab;
  }

  /**
   * Writes `prev_hash ‖ "\n" ‖ canonical JSON` into the buffer; returns its length, or -1 when
   * the line holds something the fast path does not write (the reference path decides).
   */
  private write(line: Uint8Array): number {
    const need = 1024 + line.length * 8;
    if (this.jsonb.out.length < need) {
      this.jsonb.out = Buffer.allocUnsafe(need * 2);
      this.jsonb.spare = Buffer.allocUnsafe(need * 2);
    }
    const out = this.jsonb.out;
    const { kinds, prefixes } = this.plan;
    this.seq = 0;
    const length = line.length;
    let p = 0;
    let o = 0;
    while (p < length && line[p] !== TAB) {
      if (o === 64) return -1;
      out[o++] = line[p++] as number;
    }
    if (o !== 64 || p >= length) return -1;
    out[o++] = NEWLINE;
    p++;
    for (let field = 1; field < HASH_FIELD; field++) {
      const kind = kinds[field];
      if (kind === SKIPPED) {
        p = indexOf(line, TAB, p);
        if (p < 0) return -1;
        p++;
        continue;
      }
      const prefix = prefixes[field] as Buffer;
      for (let i = 0; i < prefix.length; i++) out[o++] = prefix[i] as number;
      if (field === EVENT_ID_FIELD) this.eventIdStart = p;
      if (line[p] === BACKSLASH && line[p + 1] === 0x4e && line[p + 2] === TAB) {
        // \N: NULL
        out[o++] = 0x6e;
        out[o++] = 0x75;
        out[o++] = 0x6c;
        out[o++] = 0x6c;
        p += 2;
      } else if (kind === TEXT) {
        o = writeTextField(line, p, out, o);
        if (o < 0) return -1;
        p = indexOf(line, TAB, p);
        if (p < 0) return -1;
      } else if (kind === INTEGER) {
        let seq = 0;
        const from = p;
        while (p < length) {
          const b = line[p] as number;
          if (b < 0x30 || b > 0x39) break;
          seq = seq * 10 + (b - 0x30);
          out[o++] = b;
          p++;
        }
        if (p === from || p - from > 15 || (line[from] === 0x30 && p - from > 1)) return -1;
        this.seq = seq;
      } else {
        const tab = indexOf(line, TAB, p);
        if (tab < 0) return -1;
        o = this.writeMetadata(line, p, tab, o);
        if (o < 0) return -1;
        p = tab;
      }
      if (field === EVENT_ID_FIELD) this.eventIdEnd = p;
      if (line[p] !== TAB) return -1;
      p++;
    }
    this.hashStart = p;
    // chain_seq is in every version: a line without one is not a verify line.
    if (this.seq < 1) return -1;
    out[o++] = 0x7d;
    return o;
  }

  private writeMetadata(line: Uint8Array, from: number, to: number, o: number): number {
    let src: Uint8Array = line;
    let start = from;
    let end = to;
    const backslash = indexOf(line, BACKSLASH, from);
    if (backslash >= 0 && backslash < to) {
      // Inside jsonb text COPY only ever doubles backslashes; anything else is not Postgres's output.
      if (this.unescaped.length < to - from) this.unescaped = Buffer.allocUnsafe((to - from) * 2);
      const buffer = this.unescaped;
      let n = 0;
      for (let i = from; i < to; i++) {
        const b = line[i] as number;
        if (b === BACKSLASH) {
          if (line[i + 1] !== BACKSLASH) return -1;
          i++;
        }
        buffer[n++] = b;
      }
      src = buffer;
      start = 0;
      end = n;
    }
    const out = this.jsonb.out;
    out[o++] = QUOTE;
    o = canonicalJsonbInto(this.jsonb, src, start, end, o);
    if (o < 0) return -1;
    out[o++] = QUOTE;
    return o;
  }
}

/**
 * A COPY text field as a JSON string (`JSON.stringify` of its value): COPY escapes undone, then
 * `"`, `\` and control characters escaped as JSON does. Returns the new offset, or -1.
 */
function writeTextField(line: Uint8Array, p: number, out: Buffer, o: number): number {
  const length = line.length;
  out[o++] = QUOTE;
  for (;;) {
    let b = line[p] as number;
    // Nearly every byte: printable, neither a quote nor a backslash (nor a field's end).
    if (b > QUOTE ? b !== BACKSLASH : b >= 0x20 && b !== QUOTE) {
      out[o++] = b;
      p++;
      continue;
    }
    if (p >= length) return -1;
    p++;
    if (b === TAB || b === NEWLINE) break;
    if (b === BACKSLASH) {
      const next = line[p++];
      if (next === BACKSLASH) b = BACKSLASH;
      else if (next === 0x74) b = 0x09;
      else if (next === 0x6e) b = 0x0a;
      else if (next === 0x72) b = 0x0d;
      else if (next === 0x62) b = 0x08;
      else if (next === 0x66) b = 0x0c;
      else if (next === 0x76) b = 0x0b;
      else return -1;
    }
    if (b >= 0x20 && b !== QUOTE && b !== BACKSLASH) {
      out[o++] = b;
    } else if (b === QUOTE || b === BACKSLASH) {
      out[o++] = BACKSLASH;
      out[o++] = b;
    } else {
      out[o++] = BACKSLASH;
      if (b === 0x08) out[o++] = 0x62;
      else if (b === 0x09) out[o++] = 0x74;
      else if (b === 0x0a) out[o++] = 0x6e;
      else if (b === 0x0c) out[o++] = 0x66;
      else if (b === 0x0d) out[o++] = 0x72;
      else {
        out[o++] = 0x75;
        out[o++] = 0x30;
        out[o++] = 0x30;
        out[o++] = HEX[b >> 4] as number;
        out[o++] = HEX[b & 15] as number;
      }
    }
  }
  out[o++] = QUOTE;
  return o;
}

function indexOf(line: Uint8Array, byte: number, from: number): number {
  return (line as Buffer).indexOf(byte, from);
}

/** The last field of a line (up to its newline) as Latin-1 text: a hex hash. */
function lineText(line: Uint8Array, from: number): string {
  let end = line.length;
  if (end > from && line[end - 1] === NEWLINE) end -= 1;
  return (line as Buffer).toString('latin1', from, end);
}
