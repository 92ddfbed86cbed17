/**
 * The prefilter. One lean pass over a string (`scan`) records which character classes it holds,
 * how many digits and dots, how its digits sit (after two letters, standing free, the most in
 * one run of number characters `[0-9 .()+-]` and in a row) and its longest token run, so that
 * each detector can be skipped by a cheap necessary condition (its `requires` and `gate`)
 * instead of running its pattern. A clean string usually fails every condition and comes back
 * unchanged after this single pass. Long text gets only its classes and digit count in the pass;
 * its number facts come from a native search for digits when a detector asks (`measure`), and
 * its longest token run on demand. Also on demand, once per text: which secret words occur, and
 * whether a dash opens a word or a colon leads an IPv6 address.
 *
 * Everything recorded is a necessary condition: when it says no, the detector's pattern cannot
 * match. After a detector changes the text, the facts are widened rather than recomputed
 * (`widen`): flags gain every class a replacement could add and the counts become unbounded, so
 * they stay necessary conditions for the new text; the on-demand checks and the gate regexes
 * always look at the current text.
 */

/** ASCII digit `0-9`. */
export const DIGIT = 1 << 0;
/** ASCII letter. */
export const LETTER = 1 << 1;
/** ASCII whitespace matched by `\s` (tab to carriage return, space). */
export const WHITESPACE = 1 << 2;
/** Any code unit ≥ 0x80: Unicode whitespace, invisible characters, surrogates, other scripts. */
export const NON_ASCII = 1 << 3;
/** U+0000, which Postgres cannot store. */
export const NUL = 1 << 4;
export const AT = 1 << 5;
export const PERCENT = 1 << 6;
export const COLON = 1 << 7;
export const EQUALS = 1 << 8;
export const DOT = 1 << 9;
export const UNDERSCORE = 1 << 10;
export const SLASH = 1 << 11;
export const DASH = 1 << 12;
/** `[` or `]`: replacement markers are bracketed. */
export const BRACKET = 1 << 13;
/** A character JSON escapes: control characters, `"`, `\` and DEL. */
export const JSON_ESCAPE = 1 << 14;
/**
 * An ASCII character other than `[0-9A-Fa-f-]`: every provider-token marker holds one, so hex
 * hashes, trace ids and UUIDs skip the token detectors.
 */
export const NON_HEX = 1 << 15;
/** ASCII upper-case letter. */
export const UPPER = 1 << 16;
/** ASCII lower-case letter. */
export const LOWER = 1 << 17;
/** A UTF-16 surrogate: the text may hold a lone one, which UTF-8 cannot encode. */
export const SURROGATE = 1 << 18;
/** Soft hyphen, zero-width and bidi controls, word joiner or BOM (see `encoded-text.ts`). */
export const INVISIBLE = 1 << 19;
/** Two letters directly followed by a digit (`DE89`): how an IBAN starts. */
export const LETTERS_THEN_DIGIT = 1 << 20;
/**
 * A digit not following `[A-Za-z0-9_-]`: phone numbers and dashed SSNs start at one (or at the
 * `+` or `(` just before one), never inside a word or an id such as `ORD-2026-000123`.
 */
export const FREE_DIGIT = 1 << 21;

/** Flags that describe the text; the higher bits of the class table only drive the scan. */
const TEXT_FLAGS = (1 << 22) - 1;
/** Member of the token class `[A-Za-z0-9_+/=-]` used by provider tokens and base64. */
const TOKEN_SHIFT = 22;
const TOKEN = 1 << TOKEN_SHIFT;
/** Member of `[0-9 .()+-]`, the characters of phone, card and SSN numbers. */
const NUMBER_PART_SHIFT = 23;
const NUMBER_PART = 1 << NUMBER_PART_SHIFT;
/** Not in `[A-Za-z0-9_-]`: a digit after it is a `FREE_DIGIT`. */
const FREES_DIGIT = 1 << 24;
/** Carried from one character to the next: a letter that follows a letter. */
const LETTER_PAIR = LETTER << 24;
/** Position of `DOT`, so the scan counts dots without a branch. */
const DOT_SHIFT = 9;

/**
 * Classes a replacement (`[REDACTED:name]`, `[name:3f9a1c0b]`, user names) may add, and the
 * adjacencies a replacement or removal may create.
 */
const WIDENED_FLAGS =
  DIGIT |
  LETTER |
  UPPER |
  LOWER |
  COLON |
  DOT |
  UNDERSCORE |
  DASH |
  BRACKET |
  NON_HEX |
  LETTERS_THEN_DIGIT |
  FREE_DIGIT;

/** Texts up to this length get every fact in the scan; longer ones have numbers measured later. */
const SHORT_TEXT = 256;
/** A digit and the number characters after it, found natively in long text. */
const NUMBER_RUN = /\d[\d .()+-]*/g;

/** The shortest token run the built-in detectors ask about (a JWT's first part). */
const SHORTEST_RUN = 8;

/** Stands for "no bound" in a count: a small integer, so the fields stay small integers. */
const UNBOUNDED = 0x3fffffff;

/** Per ASCII code: its class flags; built per scanner, so no table is shared module state. */
function buildClassTable(): Uint32Array {
  const table = new Uint32Array(128);
  const add = (from: number, to: number, flags: number) => {
    for (let code = from; code <= to; code++) table[code] = (table[code] as number) | flags;
  };
  const codes = (chars: string, flags: number) => {
    for (const char of chars) add(char.charCodeAt(0), char.charCodeAt(0), flags);
  };
  add(0x00, 0x7f, NON_HEX | FREES_DIGIT);
  for (const [from, to] of [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
    [0x2d, 0x2d],
  ] as const) {
    for (let code = from; code <= to; code++) table[code] = (table[code] as number) & ~NON_HEX;
  }
  for (const [from, to] of [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
    [0x5f, 0x5f],
    [0x2d, 0x2d],
  ] as const) {
    for (let code = from; code <= to; code++) table[code] = (table[code] as number) & ~FREES_DIGIT;
  }
  add(0x30, 0x39, DIGIT | TOKEN | NUMBER_PART);
  add(0x41, 0x5a, LETTER | UPPER | TOKEN);
  add(0x61, 0x7a, LETTER | LOWER | TOKEN);
  add(0x09, 0x0d, WHITESPACE);
  add(0x00, 0x1f, JSON_ESCAPE);
  add(0x00, 0x00, NUL);
  add(0x7f, 0x7f, JSON_ESCAPE);
  codes(' ', WHITESPACE | NUMBER_PART);
  codes('"\\', JSON_ESCAPE);
  codes('@', AT);
  codes('%', PERCENT);
  codes(':', COLON);
  codes('=', EQUALS | TOKEN);
  codes('.', DOT | NUMBER_PART);
  codes('_', UNDERSCORE | TOKEN);
  codes('/', SLASH | TOKEN);
  codes('-', DASH | TOKEN | NUMBER_PART);
  codes('+', TOKEN | NUMBER_PART);
  codes('()', NUMBER_PART);
  codes('[]', BRACKET);
  return table;
}

/** Flags of a code unit ≥ 0x80. */
function nonAsciiFlags(code: number): number {
  if (code >= 0xd800 && code <= 0xdfff) return NON_ASCII | SURROGATE;
  if (
    code === 0xad ||
    code === 0x180e ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2060 && code <= 0x2064) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0xfeff
  ) {
    return NON_ASCII | INVISIBLE;
  }
  return NON_ASCII;
}

function isHexDigit(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

/** `[\w:.]`: what an IPv6 address may not follow. */
function isIpv6Blocker(code: number): boolean {
  return (
    (code >= 48 && code <= 58) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 95 ||
    code === 46
  );
}

/**
 * Facts about one string. A redactor owns one instance and rescans it for each string it
 * redacts (`scan`), so the hot path allocates nothing.
 */
export class TextFeatures {
  /** The string these facts describe (or, after `widen`, bound from above). */
  text = '';
  flags = 0;
  /** True while the facts are exact for `text`, false once widened. */
  exact = true;
  digits = 0;
  /** Most digits in one run of `[0-9 .()+-]`: a phone number needs 8, an SSN 9, a card 13. */
  numberDigits = 0;
  /** Most digits in a row: an SSN after its keyword needs 9. */
  digitRun = 0;
  dots = 0;
  /** Whether `numberDigits` and the digit adjacencies are exact (or widened) for `text`. */
  measured = true;
  /** Which secret words occur (bits defined by the detectors), -1 until they look. */
  words = -1;
  /**
   * The longest token run: exact for short text (from the scan); for long text found on demand
   * (`tokenRun`), then exact if at least `SHORTEST_RUN`, else 0. -1 while unknown.
   */
  longestRun = -1;
  private readonly table = buildClassTable();

  /**
   * Records the facts of `text` in one pass. A short text gets them all; a long one only its
   * classes and digit count, and its number facts are measured if a detector asks (`measure`).
   */
  scan(text: string): this {
    this.text = text;
    this.exact = true;
    this.words = -1;
    if (text.length <= SHORT_TEXT) this.scanShort(text);
    else this.scanLong(text);
    return this;
  }

  private scanShort(text: string): void {
    const table = this.table;
    let flags = 0;
    let digits = 0;
    let dots = 0;
    let numberRun = 0;
    let numberDigits = 0;
    let digitRun = 0;
    let longestDigitRun = 0;
    let tokenRun = 0;
    let longestTokenRun = 0;
    // The classes of the character before each digit, gathered: letters, or a free start.
    let beforeDigits = 0;
    let previous = FREES_DIGIT;
    // Counts and runs are updated with masks rather than branches: in ids and hashes, digits and
    // letters alternate at random and a branch on each would be mispredicted half the time.
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      const bits = code < 128 ? (table[code] as number) : nonAsciiFlags(code) | FREES_DIGIT;
      flags |= bits;
      dots += (bits >> DOT_SHIFT) & 1;
      const digit = bits & DIGIT;
      const digitMask = -digit;
      digits += digit;
      beforeDigits |= previous & digitMask;
      numberRun = (numberRun + digit) & -((bits >> NUMBER_PART_SHIFT) & 1);
      numberDigits = Math.max(numberDigits, numberRun);
      digitRun = (digitRun + 1) & digitMask;
      longestDigitRun = Math.max(longestDigitRun, digitRun);
      tokenRun = (tokenRun + 1) & -((bits >> TOKEN_SHIFT) & 1);
      longestTokenRun = Math.max(longestTokenRun, tokenRun);
      previous = bits | ((bits & previous & LETTER) << 24);
    }
    if ((beforeDigits & LETTER_PAIR) !== 0) flags |= LETTERS_THEN_DIGIT;
    if ((beforeDigits & FREES_DIGIT) !== 0) flags |= FREE_DIGIT;
    this.flags = flags & TEXT_FLAGS;
    this.digits = digits;
    this.dots = dots;
    this.numberDigits = numberDigits;
    this.digitRun = longestDigitRun;
    this.longestRun = longestTokenRun;
    this.measured = true;
  }

  private scanLong(text: string): void {
    const table = this.table;
    let flags = 0;
    let digits = 0;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      const bits = code < 128 ? (table[code] as number) : nonAsciiFlags(code);
      flags |= bits;
      digits += bits & DIGIT;
    }
    // Until measured, the adjacencies count as present whenever their characters are.
    if ((flags & DIGIT) !== 0) {
      flags |= FREE_DIGIT;
      if ((flags & LETTER) !== 0) flags |= LETTERS_THEN_DIGIT;
    }
    this.flags = flags & TEXT_FLAGS;
    this.longestRun = -1;
    this.digits = digits;
    this.dots = UNBOUNDED;
    this.numberDigits = digits;
    this.digitRun = digits;
    this.measured = (flags & DIGIT) === 0;
  }

  /**
   * The number facts of a long text (`numberDigits`, `digitRun`, `LETTERS_THEN_DIGIT`,
   * `FREE_DIGIT`), from its
   * runs of number characters only: a native search skips to each digit that opens one.
   */
  measure(): void {
    if (this.measured) return;
    this.measured = true;
    const text = this.text;
    const table = this.table;
    let numberDigits = 0;
    let longestDigitRun = 0;
    let beforeDigits = 0;
    NUMBER_RUN.lastIndex = 0;
    for (let run = NUMBER_RUN.exec(text); run !== null; run = NUMBER_RUN.exec(text)) {
      const start = run.index;
      let previous = this.classesBefore(start);
      let digits = 0;
      let digitRun = 0;
      let index = start;
      for (; index < text.length; index++) {
        const code = text.charCodeAt(index);
        const bits = code < 128 ? (table[code] as number) : 0;
        if ((bits & NUMBER_PART) === 0) break;
        if ((bits & DIGIT) !== 0) {
          digits++;
          beforeDigits |= previous;
          if (++digitRun > longestDigitRun) longestDigitRun = digitRun;
        } else {
          digitRun = 0;
        }
        previous = bits;
      }
      if (digits > numberDigits) numberDigits = digits;
      NUMBER_RUN.lastIndex = index;
    }
    this.flags &= ~(LETTERS_THEN_DIGIT | FREE_DIGIT);
    if ((beforeDigits & LETTER_PAIR) !== 0) this.flags |= LETTERS_THEN_DIGIT;
    if ((beforeDigits & FREES_DIGIT) !== 0) this.flags |= FREE_DIGIT;
    this.numberDigits = numberDigits;
    this.digitRun = longestDigitRun;
  }

  /** The class bits of the character before `index` as the scan carries them (`LETTER_PAIR`). */
  private classesBefore(index: number): number {
    const text = this.text;
    const table = this.table;
    const code = index > 0 ? text.charCodeAt(index - 1) : -1;
    if (code < 0 || code >= 128) return FREES_DIGIT;
    const bits = table[code] as number;
    const earlier = index > 1 ? text.charCodeAt(index - 2) : -1;
    const pair = earlier >= 0 && earlier < 128 && ((table[earlier] as number) & LETTER) !== 0;
    return pair ? bits | ((bits & LETTER) << 24) : bits;
  }

  /** Makes sure the facts describe `text`: a no-op when they already do. */
  of(text: string): this {
    return text === this.text ? this : this.scan(text);
  }

  /**
   * After a detector rewrote `this.text` into `text`: keeps the old facts as upper bounds
   * (replacements may add classes and digits, removals may join runs) without a rescan.
   */
  widen(text: string): void {
    this.text = text;
    this.flags |= WIDENED_FLAGS;
    this.exact = false;
    this.measured = true;
    this.digits = UNBOUNDED;
    this.dots = UNBOUNDED;
    this.numberDigits = UNBOUNDED;
    this.digitRun = UNBOUNDED;
    this.words = -1;
    this.longestRun = -1;
  }

  has(flags: number): boolean {
    return (this.flags & flags) !== 0;
  }

  /** `-` at the start or right after whitespace (`/(?:^|\s)-/`): a command-line flag. */
  dashOpensWord(): boolean {
    const text = this.text;
    for (let index = text.indexOf('-'); index !== -1; index = text.indexOf('-', index + 1)) {
      if (index === 0 || isWhitespace(text.charCodeAt(index - 1))) return true;
    }
    return false;
  }

  /**
   * `/(?<![\w:.])[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:/`, checked from each colon: at most four
   * hex digits before it, not following a word character, `:` or `.`, and at most four after it
   * up to the next colon. Where an IPv6 address may start.
   */
  ipv6Lead(): boolean {
    const text = this.text;
    for (let colon = text.indexOf(':'); colon !== -1; colon = text.indexOf(':', colon + 1)) {
      let start = colon;
      while (start > 0 && colon - start <= 4 && isHexDigit(text.charCodeAt(start - 1))) start--;
      if (colon - start > 4) continue;
      if (start > 0 && isIpv6Blocker(text.charCodeAt(start - 1))) continue;
      let end = colon + 1;
      while (end - colon <= 5 && isHexDigit(text.charCodeAt(end))) end++;
      if (end - colon <= 5 && text.charCodeAt(end) === 0x3a) return true;
    }
    return false;
  }

  /**
   * Whether `text` holds a run of at least `length` characters of `[A-Za-z0-9_+/=-]`. The
   * longest run is found once per text, checking every n-th character and walking back only
   * from token characters, so a string of short words costs a fraction of its length.
   */
  tokenRun(length: number): boolean {
    if (length <= 0) return true;
    if (length > this.text.length) return false;
    if (this.longestRun >= length) return true;
    if (length < SHORTEST_RUN) return this.longestTokenRun(length) >= length;
    if (this.longestRun < 0) this.longestRun = this.longestTokenRun(SHORTEST_RUN);
    return this.longestRun >= length;
  }

  private isToken(code: number): boolean {
    return code < 128 && ((this.table[code] as number) & TOKEN) !== 0;
  }

  /** Length of the longest token run if it is at least `shortest` characters, else 0. */
  private longestTokenRun(shortest: number): number {
    const text = this.text;
    let longest = 0;
    let need = shortest;
    let probe = need - 1;
    while (probe < text.length) {
      if (!this.isToken(text.charCodeAt(probe))) {
        probe += need;
        continue;
      }
      const stop = probe - need;
      let back = probe - 1;
      while (back > stop && this.isToken(text.charCodeAt(back))) back--;
      if (back > stop) {
        probe = back + need;
        continue;
      }
      // A run of `need` or more: measure it whole, then look for a longer one after it.
      let start = stop;
      while (start >= 0 && this.isToken(text.charCodeAt(start))) start--;
      let end = probe + 1;
      while (end < text.length && this.isToken(text.charCodeAt(end))) end++;
      longest = end - start - 1;
      need = longest + 1;
      probe = end + need;
    }
    return longest;
  }
}

/** `\s` of a RegExp without the `u` flag. */
export function isWhitespace(code: number): boolean {
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    (code >= 0xa0 &&
      (code === 0xa0 ||
        code === 0x1680 ||
        (code >= 0x2000 && code <= 0x200a) ||
        code === 0x2028 ||
        code === 0x2029 ||
        code === 0x202f ||
        code === 0x205f ||
        code === 0x3000 ||
        code === 0xfeff))
  );
}
