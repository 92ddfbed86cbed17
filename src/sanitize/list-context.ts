/**
 * Strings of one list are read together as well as one by one: a command line arrives as
 * `['--api-token', '<v>']`, a header as `['Authorization:', 'Bearer', '<v>']`, a sentence as
 * words. Each item alone looks harmless; joined with spaces, the detectors see the flag, the
 * scheme or the prose before the secret.
 */

/** Longer items are never a flag or a short secret's neighbour, and would crowd the window. */
const MAX_ITEM_LENGTH = 256;
/**
 * Items read together at once, and the characters they may join to: mapping a window back costs
 * its word count squared, so windows stay short. They overlap so a flag at one's end still meets
 * its value at the next one's start.
 */
const WINDOW_ITEMS = 16;
const WINDOW_CHARACTERS = 512;
const WINDOW_OVERLAP = 4;

/**
 * What lets one item make its neighbour a secret under the built-in detectors: a flag, a secret
 * word (`--password`, `the password is`, `Bearer`, `ssn:`), a trailing `:` or `=`; or digit
 * groups on both sides of a space (a card, phone, IBAN or SSN typed in groups). A window with
 * none of these reads the same joined as item by item, so it is not scanned twice. Tested on the
 * joined window, word by word: a superset of the item boundaries.
 *
 * Defined as the case-insensitive search
 * `(?:^|\s)-|<secret word>|[:=](?:\s|$)|[\d)] [\d(+]` or two words of 1–8 ASCII letters and digits,
 * one holding a digit, that a single space joins (`(?:^|\s)[A-Za-z\d]{1,8} [A-Za-z\d]{1,8}(?!\S)`);
 * answered by one pass over the characters (see `readsAcrossItems`), since the regular expression
 * tries every alternative at every position.
 */
/**
 * The secret words (`pass`, `pw`, `pin`, `secret`, `token`, `key`, `auth`, `bearer`, `basic`,
 * `otp`, `ssn`, `social`, `session`, `cookie`, `credential`, `dsn`, `database`, `sid`, `jwt`,
 * `security`, `account`) by first letter (`a` to `z`): what follows it.
 */
const SECRET_WORD_TAILS: ReadonlyArray<readonly string[]> = [
  ['uth', 'ccount'],
  ['earer', 'asic'],
  ['ookie', 'redential'],
  ['sn', 'atabase'],
  [],
  [],
  [],
  [],
  [],
  ['wt'],
  ['ey'],
  [],
  [],
  [],
  ['tp'],
  ['ass', 'w', 'in'],
  [],
  [],
  ['ecret', 'sn', 'ocial', 'ession', 'id', 'ecurity'],
  ['oken'],
  [],
  [],
  [],
  [],
  [],
  [],
];

/** `\s` of a RegExp without the `u` flag, for code units from 0x80. */
function isUnicodeWhitespace(code: number): boolean {
  return (
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

const isDigit = (code: number) => code >= 48 && code <= 57;

/** Whether `text` continues with `tail` at `from`, ASCII letters compared without case. */
function continuesWith(text: string, from: number, tail: string): boolean {
  if (from + tail.length > text.length) return false;
  for (let offset = 0; offset < tail.length; offset++) {
    const code = text.charCodeAt(from + offset);
    const lower = code >= 65 && code <= 90 ? code + 32 : code;
    if (lower !== tail.charCodeAt(offset)) return false;
  }
  return true;
}

/** Whether a secret word starts at `at`, given what may follow its first letter. */
function secretWordAt(text: string, at: number, tails: readonly string[]): boolean {
  for (let index = 0; index < tails.length; index++) {
    if (continuesWith(text, at + 1, tails[index] as string)) return true;
  }
  return false;
}

/** Longest word of the digit-group pairs (`[A-Za-z\d]{1,8}`). */
const SHORT_WORD = 8;

/**
 * The across-items test on a joined window (see the definition above), in one pass: words
 * (runs of non-whitespace) are tracked as they end, so a pair of short words is found when its
 * second word ends.
 */
export function readsAcrossItems(text: string): boolean {
  // Before the first character counts as whitespace: `(?:^|\s)`.
  let previous = 0x20;
  let wordLength = 0;
  let wordAlphanumeric = true;
  let wordDigit = false;
  /** A short word just ended at a single space: 0 none, 1 without a digit, 2 with one. */
  let firstWord = 0;
  /** The same for the word the current one follows. */
  let pairedWith = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (
      code === 0x20 ||
      (code <= 0x0d && code >= 0x09) ||
      (code >= 0x80 && isUnicodeWhitespace(code))
    ) {
      if (previous === 0x3a || previous === 0x3d) return true;
      firstWord = 0;
      if (wordLength > 0) {
        const short = wordAlphanumeric && wordLength <= SHORT_WORD;
        if (short && pairedWith !== 0 && (pairedWith === 2 || wordDigit)) return true;
        if (short && code === 0x20) firstWord = wordDigit ? 2 : 1;
      }
      wordLength = 0;
      wordAlphanumeric = true;
      wordDigit = false;
      pairedWith = 0;
    } else {
      if (wordLength === 0) {
        pairedWith = firstWord;
        firstWord = 0;
        if (code === 0x2d) return true;
      }
      wordLength++;
      // Only A-Z and a-z land in a-z when 0x20 is set.
      const lower = code | 0x20;
      if (lower >= 97 && lower <= 122) {
        const tails = SECRET_WORD_TAILS[lower - 97] as readonly string[];
        if (tails.length !== 0 && secretWordAt(text, index, tails)) return true;
      } else if (isDigit(code)) {
        wordDigit = true;
        if (previous === 0x20 && index >= 2) {
          const before = text.charCodeAt(index - 2);
          if (isDigit(before) || before === 0x29) return true;
        }
      } else {
        wordAlphanumeric = false;
        if ((code === 0x28 || code === 0x2b) && previous === 0x20 && index >= 2) {
          const before = text.charCodeAt(index - 2);
          if (isDigit(before) || before === 0x29) return true;
        }
      }
    }
    previous = code;
  }
  if (previous === 0x3a || previous === 0x3d) return true;
  const short = wordLength > 0 && wordAlphanumeric && wordLength <= SHORT_WORD;
  return short && pairedWith !== 0 && (pairedWith === 2 || wordDigit);
}

export interface ListContextOptions {
  /**
   * Read every window joined, not only those where a built-in detector could see across items:
   * for policies with detectors of their own, whose patterns nothing here knows.
   */
  everyWindow?: boolean;
}

/**
 * Replacements (position → text) for the string items of `items` that the joined reading of
 * their neighbours changed; empty when it changes nothing. Anything that is not a string, or a
 * string over 256 characters, separates runs. Whatever comes out is the redactor's own output:
 * unchanged words, and its replacements.
 */
export function redactListInContext(
  items: readonly unknown[],
  redactText: (text: string) => string,
  options: ListContextOptions = {},
): Map<number, string> {
  const replaced = new Map<number, string>();
  let runStart = 0;
  for (let index = 0; index <= items.length; index++) {
    const item = items[index];
    if (typeof item === 'string' && item.length <= MAX_ITEM_LENGTH) continue;
    if (index - runStart >= 2) {
      const run = items.slice(runStart, index) as string[];
      redactRun(run, runStart, redactText, replaced, options.everyWindow === true);
    }
    runStart = index + 1;
  }
  return replaced;
}

/** Reads `run` (starting at `offset` in its list) in overlapping windows; first change wins. */
function redactRun(
  run: readonly string[],
  offset: number,
  redactText: (text: string) => string,
  replaced: Map<number, string>,
  everyWindow: boolean,
): void {
  for (let from = 0; ; ) {
    let to = from + 1;
    let characters = (run[from] as string).length;
    while (to < run.length && to - from < WINDOW_ITEMS) {
      characters += 1 + (run[to] as string).length;
      if (to - from >= 2 && characters > WINDOW_CHARACTERS) break;
      to++;
    }
    const window = run.slice(from, to);
    const joined = window.join(' ');
    const redacted = everyWindow || readsAcrossItems(joined) ? redactText(joined) : joined;
    if (redacted !== joined) {
      alignWindow(window, redacted).forEach((text, index) => {
        const position = offset + from + index;
        if (text !== window[index] && !replaced.has(position)) replaced.set(position, text);
      });
    }
    if (to >= run.length) return;
    from = Math.max(from + 1, to - WINDOW_OVERLAP);
  }
}

/**
 * Maps the redacted text of `items.join(' ')` back onto the items: words the redactor kept are
 * matched in order (longest common subsequence of space-separated words); an item holding a word
 * it did not keep becomes its kept words with each unmatched stretch replaced by what the
 * redactor wrote there.
 */
function alignWindow(items: readonly string[], redacted: string): string[] {
  const before: string[] = [];
  const owner: number[] = [];
  items.forEach((item, index) => {
    for (const word of item.split(' ')) {
      before.push(word);
      owner.push(index);
    }
  });
  const after = redacted.split(' ');
  const n = before.length;
  const m = after.length;
  // common[i][j]: longest common subsequence of before[i..] and after[j..].
  const common = new Uint16Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => i * (m + 1) + j;
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      common[at(i, j)] =
        before[i] === after[j]
          ? (common[at(i + 1, j + 1)] as number) + 1
          : Math.max(common[at(i + 1, j)] as number, common[at(i, j + 1)] as number);
    }
  }
  const words: string[][] = items.map(() => []);
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && before[i] === after[j]) {
      words[owner[i] as number]?.push(before[i] as string);
      i++;
      j++;
      continue;
    }
    // An unmatched stretch: words of `before` the redactor replaced by words of `after`.
    const stretchStart = i;
    const written: string[] = [];
    while (i < n || j < m) {
      if (i < n && j < m && before[i] === after[j]) break;
      if (
        j < m &&
        (i >= n || (common[at(i, j + 1)] as number) >= (common[at(i + 1, j)] as number))
      ) {
        written.push(after[j] as string);
        j++;
      } else {
        i++;
      }
    }
    const replacement = written.join(' ');
    if (replacement === '') continue;
    const touched = new Set(owner.slice(stretchStart, i));
    // Words the redactor added between kept ones belong to the item before them.
    if (touched.size === 0) touched.add(owner[Math.max(0, i - 1)] as number);
    for (const item of touched) words[item]?.push(replacement);
  }
  return words.map((kept) => kept.join(' '));
}
