/**
 * The prefilter. One lean pass over a string (`scan`) records which character classes it holds,
 * so that each detector can be skipped by a cheap necessary condition (its `requires` and
 * `gate`) instead of running its pattern. A clean string usually fails every condition and comes
 * back unchanged after this single pass.
 *
 * Finer facts are measured on demand (`measure`), only when a detector still in play asks: the
 * runs of number characters (digits in a run, digits after a place a phone number may start, an
 * IBAN's opening, SSN digit groups, dots as in an IPv4 address), dashes and whether one opens a
 * word, and, for short strings, counts of dots and colons and which letters occur. Numbers are
 * found with a native search that skips to digits, so long prose costs little.
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
/** Two letters opening a word, then two digits (`DE89…`): how every IBAN starts. */
export const IBAN_LEAD = 1 << 17;
/** Digit groups of at least 3, exactly 2 and at least 4, joined by single spaces or dashes. */
export const SSN_GROUPS = 1 << 18;
/** Shapes: exact once measured; until then set whenever their characters occur. */
const SHAPES = DASH_OPENS_WORD | IBAN_LEAD | SSN_GROUPS;
/** ASCII upper-case letter. */
export const UPPER = 1 << 19;
/** ASCII lower-case letter. */
export const LOWER = 1 << 20;
/** A UTF-16 surrogate: the text may hold a lone one, which UTF-8 cannot encode. */
export const SURROGATE = 1 << 21;
/** Soft hyphen, zero-width and bidi controls, word joiner or BOM (see `encoded-text.ts`). */
export const INVISIBLE = 1 << 22;

/** Flags that describe the text; the higher bits of the class table only drive the scans. */
const TEXT_FLAGS = (1 << 23) - 1;
/** Member of the token class `[A-Za-z0-9_+/=-]` used by provider tokens and base64. */
const TOKEN = 1 << 23;
/** Member of `[0-9 .()+-]`, the characters of phone, card and SSN numbers. */
const NUMBER_PART = 1 << 24;
/** `+` or `(`, which may open a phone number. */
const PHONE_OPENER = 1 << 25;
/** A character a phone number may not follow: `[\w+\-.,/:#$]` (and `€`, `£`). */
const PHONE_BLOCKER = 1 << 26;

/** A run of number characters opened by a digit, found natively in long text. */
const NUMBER_RUN = /\d[\d .()+-]*/g;
/** Strings up to this length get their shapes measured; longer ones rely on the gate regexes. */
const MEASURE_LIMIT = 96;

/** The shortest token run the built-in detectors ask about (a JWT's first part). */
const SHORTEST_RUN = 8;

/** Stands for "no bound" in a count: a small integer, so the fields stay small integers. */
const UNBOUNDED = 0x3fffffff;
const ALL_LETTERS = -1;

/**
 * Classes a replacement (`[REDACTED:name]`, `[name:3f9a1c0b]`, user names) may add, and the
 * shapes a removal may create by joining what was around it.
 */
const WIDENED_FLAGS =
  DIGIT | LETTER | UPPER | LOWER | COLON | DOT | UNDERSCORE | DASH | BRACKET | NON_HEX | SHAPES;

/** Bit of a letter in `TextFeatures.letters`, the same for both cases (`a` and `A` → 1 << 1). */
export function letterBits(letters: string): number {
  let bits = 0;
  for (const letter of letters) bits |= 1 << (letter.charCodeAt(0) & 31);
  return bits;
}

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
  add(0x30, 0x39, DIGIT | TOKEN | NUMBER_PART | PHONE_BLOCKER);
  add(0x41, 0x5a, LETTER | UPPER | TOKEN | PHONE_BLOCKER);
  add(0x61, 0x7a, LETTER | LOWER | TOKEN | PHONE_BLOCKER);
  add(0x09, 0x0d, WHITESPACE);
  add(0x00, 0x1f, JSON_ESCAPE);
  add(0x00, 0x00, NUL);
  add(0x7f, 0x7f, JSON_ESCAPE);
  codes(' ', WHITESPACE | NUMBER_PART);
  codes('"\\', JSON_ESCAPE);
  codes('@', AT);
  codes('%', PERCENT);
  codes(':', COLON | PHONE_BLOCKER);
  codes('=', EQUALS | TOKEN);
  codes('.', DOT | NUMBER_PART | PHONE_BLOCKER);
  codes('_', UNDERSCORE | TOKEN | PHONE_BLOCKER);
  codes('/', SLASH | TOKEN | PHONE_BLOCKER);
  codes('-', DASH | TOKEN | NUMBER_PART | PHONE_BLOCKER);
  codes('+', TOKEN | NUMBER_PART | PHONE_BLOCKER | PHONE_OPENER);
  codes('(', NUMBER_PART | PHONE_OPENER);
  codes(')', NUMBER_PART);
  codes(',#$', PHONE_BLOCKER);
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

/** Whether a phone number may start right after this code unit (-1: the start of the text). */
function allowsPhone(table: Uint32Array, code: number): boolean {
  if (code < 0) return true;
  if (code < 128) return ((table[code] as number) & PHONE_BLOCKER) === 0;
  return code !== 0x20ac && code !== 0xa3;
}

/** Whether `code` (-1: outside the text) is an ASCII character of one of `classes`. */
function isAsciiClass(table: Uint32Array, code: number, classes: number): boolean {
  return code >= 0 && code < 128 && ((table[code] as number) & classes) !== 0;
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
  /** True while the facts are exact for `text`, false once widened. */
  exact = true;
  /** True once `measure` ran for `text`; until then the fields below are unbounded. */
  measured = false;
  digits = UNBOUNDED;
  dots = UNBOUNDED;
  colons = UNBOUNDED;
  dashes = UNBOUNDED;
  /** Most digits in one run of `[0-9 .()+-]`: an SSN needs 9, a card 13. */
  numberDigits = UNBOUNDED;
  /** Most digits in such a run after a place a phone number may start: a phone needs 8. */
  phoneDigits = UNBOUNDED;
  /** Most dots in such a run: an IPv4 address needs 3. */
  numberDots = UNBOUNDED;
  /** One bit per ASCII letter present, either case (see `letterBits`); all bits for long text. */
  letters = ALL_LETTERS;
  /** Which secret words occur (bits defined by the detectors), -1 until they look. */
  words = -1;
  /** Memo of `tokenRun`: the longest token run if at least `SHORTEST_RUN`, else 0; -1 unknown. */
  private longestRun = -1;
  private readonly table = buildClassTable();

  /** Records the character classes of `text` in one pass. */
  scan(text: string): this {
    const table = this.table;
    let flags = 0;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      flags |= code < 128 ? (table[code] as number) : nonAsciiFlags(code);
    }
    flags &= TEXT_FLAGS;
    // Until measured, a shape counts as present whenever its characters are.
    if ((flags & DASH) !== 0) flags |= DASH_OPENS_WORD;
    if ((flags & DIGIT) !== 0) {
      flags |= SSN_GROUPS;
      if ((flags & LETTER) !== 0) flags |= IBAN_LEAD;
    }
    this.text = text;
    this.flags = flags;
    this.exact = true;
    this.measured = false;
    this.digits = UNBOUNDED;
    this.dots = UNBOUNDED;
    this.colons = UNBOUNDED;
    this.dashes = UNBOUNDED;
    this.numberDigits = UNBOUNDED;
    this.phoneDigits = UNBOUNDED;
    this.numberDots = UNBOUNDED;
    this.letters = ALL_LETTERS;
    this.words = -1;
    this.longestRun = -1;
    return this;
  }

  /** Makes sure the facts describe `text`: a no-op when they already do. */
  of(text: string): this {
    return text === this.text ? this : this.scan(text);
  }

  /**
   * Measures the finer facts of an unwidened text (see the module comment): short texts in one
   * pass over every character, long ones through a search for digit-led runs and for dashes.
   */
  measure(): void {
    if (this.measured) return;
    this.measured = true;
    if (!this.exact) return;
    this.flags &= ~SHAPES;
    this.digits = 0;
    this.numberDigits = 0;
    this.phoneDigits = 0;
    this.numberDots = 0;
    if (this.text.length <= MEASURE_LIMIT) this.measureEveryCharacter();
    else this.measureNumbersAndDashes();
  }

  private measureEveryCharacter(): void {
    const text = this.text;
    const table = this.table;
    let letters = 0;
    let dots = 0;
    let colons = 0;
    let dashes = 0;
    // End of the number run measured last: its characters are not measured again.
    let measuredTo = 0;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code >= 128) continue;
      const bits = table[code] as number;
      if ((bits & LETTER) !== 0) {
        letters |= 1 << (code & 31);
      } else if ((bits & DIGIT) !== 0) {
        if (index >= measuredTo) measuredTo = this.measureNumber(index);
      } else if (code === 0x2e) {
        dots++;
      } else if (code === 0x3a) {
        colons++;
      } else if (code === 0x2d) {
        dashes++;
        if (index === 0 || isWhitespace(text.charCodeAt(index - 1))) {
          this.flags |= DASH_OPENS_WORD;
        }
      }
    }
    this.letters = letters;
    this.dots = dots;
    this.colons = colons;
    this.dashes = dashes;
  }

  private measureNumbersAndDashes(): void {
    const text = this.text;
    if ((this.flags & DIGIT) !== 0) {
      NUMBER_RUN.lastIndex = 0;
      for (let run = NUMBER_RUN.exec(text); run !== null; run = NUMBER_RUN.exec(text)) {
        NUMBER_RUN.lastIndex = this.measureNumber(run.index);
      }
    }
    let dashes = 0;
    for (let index = text.indexOf('-'); index !== -1; index = text.indexOf('-', index + 1)) {
      dashes++;
      if (index === 0 || isWhitespace(text.charCodeAt(index - 1))) this.flags |= DASH_OPENS_WORD;
    }
    this.dashes = dashes;
  }

  /**
   * Measures the run of number characters `[0-9 .()+-]` that a digit at `start` opens, and
   * returns where it ends: its digits (all, and after the first place a phone number may start),
   * its dots, SSN digit groups (at least 3, exactly 2, at least 4, joined by single spaces or
   * dashes), and whether two letters opening a word lead into its first two digits (an IBAN).
   */
  private measureNumber(start: number): number {
    const text = this.text;
    const table = this.table;
    const before = start > 0 ? text.charCodeAt(start - 1) : -1;
    const twoBefore = start > 1 ? text.charCodeAt(start - 2) : -1;
    if (
      isAsciiClass(table, before, LETTER) &&
      isAsciiClass(table, twoBefore, LETTER) &&
      !isAsciiClass(table, start > 2 ? text.charCodeAt(start - 3) : -1, LETTER | DIGIT) &&
      isAsciiClass(table, start + 1 < text.length ? text.charCodeAt(start + 1) : -1, DIGIT)
    ) {
      this.flags |= IBAN_LEAD;
    }
    // A phone number may start at this digit, or at a `+` or `(` just before it.
    let phoneRun =
      allowsPhone(table, before) ||
      (((table[before] as number) & PHONE_OPENER) !== 0 && allowsPhone(table, twoBefore))
        ? 0
        : -1;
    let digits = 0;
    let dots = 0;
    let group = 0;
    let group1 = 0;
    let group2 = 0;
    let previous = before;
    let index = start;
    for (; index < text.length; index++) {
      const code = text.charCodeAt(index);
      const bits = code < 128 ? (table[code] as number) : 0;
      if ((bits & NUMBER_PART) === 0) break;
      if ((bits & DIGIT) !== 0) {
        digits++;
        if (phoneRun < 0 && allowsPhone(table, previous)) phoneRun = 0;
        if (phoneRun >= 0) phoneRun++;
        if (++group >= 4 && group1 === 2 && group2 >= 3) this.flags |= SSN_GROUPS;
      } else {
        if ((bits & PHONE_OPENER) !== 0 && phoneRun < 0 && allowsPhone(table, previous)) {
          phoneRun = 0;
        }
        if ((code === 0x20 || code === 0x2d) && group > 0) {
          group2 = group1;
          group1 = group;
        } else {
          group1 = group2 = 0;
        }
        group = 0;
        if (code === 0x2e) dots++;
      }
      previous = code;
    }
    this.digits += digits;
    if (digits > this.numberDigits) this.numberDigits = digits;
    if (phoneRun > this.phoneDigits) this.phoneDigits = phoneRun;
    if (dots > this.numberDots) this.numberDots = dots;
    return index;
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
    this.colons = UNBOUNDED;
    this.dashes = UNBOUNDED;
    this.numberDigits = UNBOUNDED;
    this.phoneDigits = UNBOUNDED;
    this.numberDots = UNBOUNDED;
    this.letters = ALL_LETTERS;
    this.words = -1;
    this.longestRun = -1;
  }

  has(flags: number): boolean {
    return (this.flags & flags) !== 0;
  }

  /**
   * Whether `text` holds a run of at least `length` characters of `[A-Za-z0-9_+/=-]`. The
   * longest run is found once per text, checking every n-th character and walking back only
   * from token characters, so a string of short words costs a fraction of its length.
   */
  tokenRun(length: number): boolean {
    if (length <= 0) return true;
    if (length > this.text.length) return false;
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
