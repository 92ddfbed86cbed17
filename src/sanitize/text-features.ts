/**
 * The prefilter: one pass over a string records which character classes it holds and how many
 * digits, dots and colons, so that each detector can be skipped by a cheap necessary condition
 * (its `requires` and `gate`) instead of running its pattern. A clean string usually fails every
 * condition and comes back unchanged after this single pass.
 *
 * Everything recorded is a necessary condition: when it says no, the detector's pattern cannot
 * match. After a detector changes the text, the facts are widened rather than recomputed
 * (`widen`): flags gain every class a replacement could add and the counts become unbounded, so
 * they stay necessary conditions for the new text; the exact checks (`tokenRun`, the gate
 * regexes) always look at the current text.
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
/** `-` at the start or right after whitespace: the shape of a command-line flag. */
export const DASH_OPENS_WORD = 1 << 16;
/** Flags that describe the text; the higher bits of the class table only drive the scan. */
const TEXT_FLAGS = (1 << 17) - 1;
/** Member of the token class `[A-Za-z0-9_+/=-]` used by provider tokens and base64. */
const TOKEN = 1 << 17;
/** Member of `[0-9 .()+-]`, the characters of phone, card and SSN numbers. */
const NUMBER_PART = 1 << 18;

/** Classes a replacement (`[REDACTED:name]`, `[name:3f9a1c0b]`, user names) may add. */
const REPLACEMENT_FLAGS = DIGIT | LETTER | COLON | DOT | UNDERSCORE | DASH | BRACKET | NON_HEX;

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
  add(0x00, 0x7f, NON_HEX);
  for (const [from, to] of [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
    [0x2d, 0x2d],
  ] as const) {
    for (let code = from; code <= to; code++) table[code] = (table[code] as number) & ~NON_HEX;
  }
  add(0x30, 0x39, DIGIT | TOKEN | NUMBER_PART);
  add(0x41, 0x5a, LETTER | TOKEN);
  add(0x61, 0x7a, LETTER | TOKEN);
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

/** Code units `\s` matches. */
function isWhitespace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
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
  digits = 0;
  dots = 0;
  colons = 0;
  /** Most digits in one run of `[0-9 .()+-]`: a phone number needs 8, an SSN 9, a card 13. */
  numberDigits = 0;
  /** True while the facts are exact for `text`, false once widened. */
  exact = true;
  /** Memo of `tokenRun`: a run this long is known to exist, and none this long. */
  private runAtLeast = 0;
  private runBelow = UNBOUNDED;
  /** Memo of `remember`: bit 2n set once slot n was checked, bit 2n+1 holds its answer. */
  private remembered = 0;
  private readonly table = buildClassTable();

  /** Records the facts of `text` in one pass. */
  scan(text: string): this {
    const table = this.table;
    let flags = 0;
    let digits = 0;
    let dots = 0;
    let colons = 0;
    let numberRun = 0;
    let numberDigits = 0;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code >= 128) {
        flags |= NON_ASCII;
        numberRun = 0;
        continue;
      }
      const bits = table[code] as number;
      flags |= bits;
      if ((bits & NUMBER_PART) === 0) {
        numberRun = 0;
        if (code === 0x3a) colons++;
        continue;
      }
      if ((bits & DIGIT) !== 0) {
        digits++;
        if (++numberRun > numberDigits) numberDigits = numberRun;
      } else if (code === 0x2e) {
        dots++;
      } else if (code === 0x2d && (index === 0 || isWhitespace(text.charCodeAt(index - 1)))) {
        flags |= DASH_OPENS_WORD;
      }
    }
    this.text = text;
    this.flags = flags & TEXT_FLAGS;
    this.digits = digits;
    this.dots = dots;
    this.colons = colons;
    this.numberDigits = numberDigits;
    this.exact = true;
    this.runAtLeast = 0;
    this.runBelow = UNBOUNDED;
    this.remembered = 0;
    return this;
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
    // A removal can bring a dash next to whitespace.
    if ((this.flags & DASH) !== 0) this.flags |= DASH_OPENS_WORD;
    this.flags |= REPLACEMENT_FLAGS;
    this.digits = UNBOUNDED;
    this.dots = UNBOUNDED;
    this.colons = UNBOUNDED;
    this.numberDigits = UNBOUNDED;
    this.exact = false;
    this.runAtLeast = 0;
    this.runBelow = UNBOUNDED;
    this.remembered = 0;
  }

  has(flags: number): boolean {
    return (this.flags & flags) !== 0;
  }

  /**
   * `test(text)`, computed once per text for checks several gates share (slot 0–14, one per
   * check; the caller keeps slots distinct).
   */
  remember(slot: number, test: (text: string) => boolean): boolean {
    const checked = 1 << (2 * slot);
    const answer = checked << 1;
    if ((this.remembered & checked) === 0) {
      this.remembered |= checked | (test(this.text) ? answer : 0);
    }
    return (this.remembered & answer) !== 0;
  }

  /**
   * Whether `text` holds a run of at least `length` characters of `[A-Za-z0-9_+/=-]`. Checks
   * every `length`-th character and walks back only from token characters, so a string of short
   * words costs a fraction of its length; a run found is measured whole for later questions.
   */
  tokenRun(length: number): boolean {
    if (length <= this.runAtLeast) return true;
    if (length >= this.runBelow || length > this.text.length) return false;
    const found = this.findTokenRun(length);
    if (found >= length) this.runAtLeast = found;
    else this.runBelow = length;
    return found >= length;
  }

  /** Length of the first token run of at least `length` characters, else 0. */
  private findTokenRun(length: number): number {
    const text = this.text;
    const table = this.table;
    let probe = length - 1;
    while (probe < text.length) {
      const code = text.charCodeAt(probe);
      if (code >= 128 || ((table[code] as number) & TOKEN) === 0) {
        probe += length;
        continue;
      }
      const stop = probe - length;
      let back = probe - 1;
      while (back > stop) {
        const before = text.charCodeAt(back);
        if (before >= 128 || ((table[before] as number) & TOKEN) === 0) break;
        back--;
      }
      if (back === stop) {
        let end = probe + 1;
        while (end < text.length) {
          const after = text.charCodeAt(end);
          if (after >= 128 || ((table[after] as number) & TOKEN) === 0) break;
          end++;
        }
        return end - stop - 1;
      }
      probe = back + length;
    }
    return 0;
  }
}
