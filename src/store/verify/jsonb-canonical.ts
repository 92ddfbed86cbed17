/**
 * Postgres's jsonb text (`{"b": 1, "a": [true, "x"]}`: keys by length then bytes, a space after
 * `,` and `:`) rewritten as aitrail's canonical JSON (keys by UTF-16 code units, no spaces,
 * numbers as ECMAScript prints them), in bytes, without building JavaScript values.
 *
 * A fast path only: it gives up (returns -1) on anything it cannot rewrite exactly (a key with an
 * escape or a character past U+DFFF, a number it cannot print the way `JSON.stringify` would),
 * and a row whose hash does not match is checked again by the reference path
 * (`JSON.parse` then `canonicalJson`), which decides.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const COMMA = 0x2c;
const COLON = 0x3a;
const MAX_DEPTH = 64;

/**
 * The output buffer (a verify row's canonical JSON is written into it around the metadata),
 * scratch for reordering an object's members, and the parse position: one per row checker,
 * reused for every row.
 */
export class JsonbWriter {
  out: Buffer = Buffer.allocUnsafe(64 * 1024);
  spare: Buffer = Buffer.allocUnsafe(64 * 1024);
  /** Member bounds while an object's members are sorted: key start/end in src, out start/end. */
  readonly members = new Int32Array(4 * 4096);
  src: Uint8Array = new Uint8Array(0);
  end = 0;
  /** Read position in src. */
  p = 0;
  /** Write position in out. */
  o = 0;
  membersTop = 0;

  /** Makes room for a row of `bytes` bytes (its canonical JSON is at most 8× as long). */
  reserve(bytes: number): void {
    if (this.out.length >= 1024 + bytes * 8) return;
    this.out = Buffer.allocUnsafe(2048 + bytes * 16);
    this.spare = Buffer.allocUnsafe(2048 + bytes * 16);
  }

  /**
   * Writes the canonical JSON of the jsonb text `src[start, end)` at `out[o]`, escaped as the
   * inside of a JSON string (`"` and `\` backslashed: the metadata is hashed as a string).
   * Returns the offset after it, or -1 when the fast path cannot decide.
   */
  write(src: Uint8Array, start: number, end: number, o: number): number {
    this.src = src;
    this.end = end;
    this.p = start;
    this.o = o;
    this.membersTop = 0;
    if (!value(this, 0)) return -1;
    skipSpaces(this);
    return this.p === end ? this.o : -1;
  }
}

type State = JsonbWriter;

function skipSpaces(s: State): void {
  while (s.p < s.end && s.src[s.p] === SPACE) s.p++;
}

function value(s: State, depth: number): boolean {
  skipSpaces(s);
  if (s.p >= s.end) return false;
  const c = s.src[s.p] as number;
  if (c === QUOTE) return string(s);
  if (c === 0x7b) return object(s, depth);
  if (c === 0x5b) return array(s, depth);
  if (c === 0x74) return literal(s, TRUE);
  if (c === 0x66) return literal(s, FALSE);
  if (c === 0x6e) return literal(s, NULL);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number(s);
  return false;
}

const TRUE: readonly number[] = [0x74, 0x72, 0x75, 0x65];
const FALSE: readonly number[] = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL: readonly number[] = [0x6e, 0x75, 0x6c, 0x6c];

function literal(s: State, word: readonly number[]): boolean {
  const { src, out } = s;
  if (s.p + word.length > s.end) return false;
  for (let i = 0; i < word.length; i++) {
    if (src[s.p + i] !== word[i]) return false;
    out[s.o + i] = word[i] as number;
  }
  s.p += word.length;
  s.o += word.length;
  return true;
}

/** A JSON string as Postgres escapes it is already as `JSON.stringify` writes it: copied. */
function string(s: State): boolean {
  const { src, end } = s;
  const out = s.out;
  let p = s.p + 1;
  let o = s.o;
  out[o++] = BACKSLASH;
  out[o++] = QUOTE;
  for (;;) {
    if (p >= end) return false;
    const b = src[p++] as number;
    if (b === QUOTE) break;
    if (b === BACKSLASH) {
      if (p >= end) return false;
      const next = src[p++] as number;
      // \" and \\ inside the string, each character backslashed again by the outer string.
      out[o++] = BACKSLASH;
      out[o++] = BACKSLASH;
      if (next === QUOTE || next === BACKSLASH) out[o++] = BACKSLASH;
      out[o++] = next;
      continue;
    }
    if (b < 0x20) return false;
    out[o++] = b;
  }
  out[o++] = BACKSLASH;
  out[o++] = QUOTE;
  s.p = p;
  s.o = o;
  return true;
}

function number(s: State): boolean {
  const { src, end } = s;
  const from = s.p;
  let p = from;
  if (src[p] === 0x2d) p++;
  const intFrom = p;
  while (p < end && isDigit(src[p] as number)) p++;
  const intDigits = p - intFrom;
  let fracDigits = 0;
  let leadingZeros = 0;
  let plain = intDigits > 0 && (src[intFrom] !== 0x30 || intDigits === 1);
  if (p < end && src[p] === 0x2e) {
    p++;
    const fracFrom = p;
    while (p < end && isDigit(src[p] as number)) p++;
    fracDigits = p - fracFrom;
    while (leadingZeros < fracDigits && src[fracFrom + leadingZeros] === 0x30) leadingZeros++;
    // A trailing zero, or none after the point, is not how ECMAScript prints a number.
    if (fracDigits === 0 || src[p - 1] === 0x30) plain = false;
  }
  if (p < end && (src[p] === 0x65 || src[p] === 0x45 || src[p] === 0x2b || src[p] === 0x2d)) {
    plain = false;
    while (
      p < end &&
      (isDigit(src[p] as number) ||
        src[p] === 0x65 ||
        src[p] === 0x45 ||
        src[p] === 0x2b ||
        src[p] === 0x2d ||
        src[p] === 0x2e)
    )
      p++;
  }
  const zeroInteger = intDigits === 1 && src[intFrom] === 0x30;
  const significant = zeroInteger ? fracDigits - leadingZeros : intDigits + fracDigits;
  // Up to 15 significant digits print back exactly as written (a double holds 15 decimal digits),
  // in positional notation from 1e-6 up; -0 prints as 0.
  if (
    plain &&
    significant <= 15 &&
    !(zeroInteger && (leadingZeros > 5 || (fracDigits === 0 && from !== intFrom)))
  ) {
    const out = s.out;
    for (let i = from; i < p; i++) out[s.o++] = src[i] as number;
    s.p = p;
    return true;
  }
  const parsed = Number(
    Buffer.from(src.buffer, src.byteOffset + from, p - from).toString('latin1'),
  );
  if (!Number.isFinite(parsed)) return false;
  s.o += s.out.write(String(parsed), s.o, 'latin1');
  s.p = p;
  return true;
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

function array(s: State, depth: number): boolean {
  if (depth >= MAX_DEPTH) return false;
  const out = s.out;
  s.p++;
  out[s.o++] = 0x5b;
  skipSpaces(s);
  if (s.src[s.p] === 0x5d) {
    s.p++;
    out[s.o++] = 0x5d;
    return true;
  }
  for (;;) {
    if (!value(s, depth + 1)) return false;
    skipSpaces(s);
    const c = s.src[s.p];
    s.p++;
    if (c === 0x5d) break;
    if (c !== COMMA) return false;
    out[s.o++] = COMMA;
  }
  out[s.o++] = 0x5d;
  return true;
}

/**
 * Members are written as they come, their bounds noted; then, unless already in canonical order,
 * the object's bytes are copied aside and written back in key order.
 */
function object(s: State, depth: number): boolean {
  if (depth >= MAX_DEPTH) return false;
  const { src } = s;
  s.p++;
  s.out[s.o++] = 0x7b;
  const objectStart = s.o;
  const first = s.membersTop;
  skipSpaces(s);
  if (src[s.p] === 0x7d) {
    s.p++;
    s.out[s.o++] = 0x7d;
    return true;
  }
  let sorted = true;
  for (;;) {
    skipSpaces(s);
    if (src[s.p] !== QUOTE) return false;
    const keyStart = s.p + 1;
    let keyEnd = keyStart;
    while (keyEnd < s.end && src[keyEnd] !== QUOTE) {
      const b = src[keyEnd] as number;
      // Escapes, and characters whose UTF-8 order is not their UTF-16 order, take the slow path.
      if (b === BACKSLASH || b >= 0xee) return false;
      keyEnd++;
    }
    if (keyEnd >= s.end) return false;
    const memberStart = s.o;
    if (!string(s)) return false;
    skipSpaces(s);
    if (src[s.p] !== COLON) return false;
    s.p++;
    s.out[s.o++] = COLON;
    if (!value(s, depth + 1)) return false;
    const index = s.membersTop;
    if (index + 4 > s.members.length) return false;
    const members = s.members;
    members[index] = keyStart;
    members[index + 1] = keyEnd;
    members[index + 2] = memberStart;
    members[index + 3] = s.o;
    s.membersTop += 4;
    if (
      index > first &&
      compareKeys(
        src,
        members[index - 4] as number,
        members[index - 3] as number,
        keyStart,
        keyEnd,
      ) >= 0
    )
      sorted = false;
    skipSpaces(s);
    const c = src[s.p];
    s.p++;
    if (c === 0x7d) break;
    if (c !== COMMA) return false;
    s.out[s.o++] = COMMA;
  }
  if (!sorted && !reorder(s, first, objectStart)) return false;
  s.membersTop = first;
  s.out[s.o++] = 0x7d;
  return true;
}

/** Byte order of two keys (valid as UTF-16 order for the keys the fast path accepts). */
function compareKeys(
  src: Uint8Array,
  aStart: number,
  aEnd: number,
  bStart: number,
  bEnd: number,
): number {
  let i = aStart;
  let j = bStart;
  while (i < aEnd && j < bEnd) {
    const d = (src[i] as number) - (src[j] as number);
    if (d !== 0) return d;
    i++;
    j++;
  }
  return aEnd - i - (bEnd - j);
}

/** Sorts the object's member records by key (insertion sort: objects are small), then rewrites it. */
function reorder(s: State, first: number, objectStart: number): boolean {
  const { src, members } = s;
  const top = s.membersTop;
  for (let i = first + 4; i < top; i += 4) {
    const keyStart = members[i] as number;
    const keyEnd = members[i + 1] as number;
    const outStart = members[i + 2] as number;
    const outEnd = members[i + 3] as number;
    let j = i - 4;
    while (
      j >= first &&
      compareKeys(src, members[j] as number, members[j + 1] as number, keyStart, keyEnd) > 0
    ) {
      // Four stores, not copyWithin: a native call per shift cost more than the sort's compares.
      members[j + 4] = members[j] as number;
      members[j + 5] = members[j + 1] as number;
      members[j + 6] = members[j + 2] as number;
      members[j + 7] = members[j + 3] as number;
      j -= 4;
    }
    members[j + 4] = keyStart;
    members[j + 5] = keyEnd;
    members[j + 6] = outStart;
    members[j + 7] = outEnd;
  }
  for (let i = first + 4; i < top; i += 4) {
    const same =
      compareKeys(
        src,
        members[i - 4] as number,
        members[i - 3] as number,
        members[i] as number,
        members[i + 1] as number,
      ) === 0;
    if (same) return false;
  }
  const length = s.o - objectStart;
  if (s.spare.length < length) return false;
  s.out.copy(s.spare, 0, objectStart, s.o);
  let o = objectStart;
  for (let i = first; i < top; i += 4) {
    if (i > first) s.out[o++] = COMMA;
    o += s.spare.copy(
      s.out,
      o,
      (members[i + 2] as number) - objectStart,
      (members[i + 3] as number) - objectStart,
    );
  }
  return o === s.o;
}
