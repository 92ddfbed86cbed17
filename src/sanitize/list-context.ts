import { isWhitespace } from './text-features.js';

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
 * `(?:^|\s)-|<secret word>|[:=](?:\s|$)|[\d)] [\d(+]` or two words of 1–8 ASCII letters and
 * digits, one holding a digit, joined by a single space
 * (`(?:^|\s)[A-Za-z\d]{1,8} [A-Za-z\d]{1,8}(?!\S)`). Answered by `readsAcrossItems`: the words by
 * one native search, the rest from each `-`, `:`, `=` and space (found natively) and its
 * neighbours, since one expression with every alternative is tried at every position.
 */
const SECRET_WORD =
  /a(?:ccount|uth)|b(?:asic|earer)|c(?:ookie|redential)|d(?:atabase|sn)|jwt|key|otp|p(?:ass|in|w)|s(?:e(?:cret|curity|ssion)|id|ocial|sn)|token/i;

const isDigit = (code: number) => code >= 48 && code <= 57;
const isAlphanumeric = (code: number) =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);

/** Longest word of the digit-group pairs (`[A-Za-z\d]{1,8}`). */
const SHORT_WORD = 8;

/** `(?:^|\s)-`: a dash opening a word. */
function dashOpensWord(text: string): boolean {
  for (let at = text.indexOf('-'); at !== -1; at = text.indexOf('-', at + 1)) {
    if (at === 0 || isWhitespace(text.charCodeAt(at - 1))) return true;
  }
  return false;
}

/** `[:=](?:\s|$)`: `separator` ending a word. */
function endsWord(text: string, separator: string): boolean {
  for (let at = text.indexOf(separator); at !== -1; at = text.indexOf(separator, at + 1)) {
    if (at === text.length - 1 || isWhitespace(text.charCodeAt(at + 1))) return true;
  }
  return false;
}

/**
 * At the space at `at`: `[\d)] [\d(+]`, or a short word on each side
 * (`(?:^|\s)[A-Za-z\d]{1,8} [A-Za-z\d]{1,8}(?!\S)`) with a digit in one of them.
 */
function joinsNumbers(text: string, at: number): boolean {
  const before = text.charCodeAt(at - 1);
  const after = text.charCodeAt(at + 1);
  if (
    (isDigit(before) || before === 0x29) &&
    (isDigit(after) || after === 0x28 || after === 0x2b)
  ) {
    return true;
  }
  let digit = false;
  let start = at;
  while (start > 0 && at - start <= SHORT_WORD && isAlphanumeric(text.charCodeAt(start - 1))) {
    start--;
    digit ||= isDigit(text.charCodeAt(start));
  }
  if (start === at || at - start > SHORT_WORD) return false;
  if (start > 0 && !isWhitespace(text.charCodeAt(start - 1))) return false;
  let end = at + 1;
  while (end < text.length && end - at <= SHORT_WORD && isAlphanumeric(text.charCodeAt(end))) {
    digit ||= isDigit(text.charCodeAt(end));
    end++;
  }
  if (end === at + 1 || end - at - 1 > SHORT_WORD) return false;
  if (end < text.length && !isWhitespace(text.charCodeAt(end))) return false;
  return digit;
}

/** The across-items test on a joined window (see the definition above). */
export function readsAcrossItems(text: string): boolean {
  if (SECRET_WORD.test(text) || dashOpensWord(text)) return true;
  if (endsWord(text, ':') || endsWord(text, '=')) return true;
  for (let at = text.indexOf(' '); at !== -1; at = text.indexOf(' ', at + 1)) {
    if (at > 0 && joinsNumbers(text, at)) return true;
  }
  return false;
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
): ReadonlyMap<number, string> {
  let replaced: Map<number, string> | undefined;
  let runStart = 0;
  for (let index = 0; index <= items.length; index++) {
    const item = items[index];
    if (typeof item === 'string' && item.length <= MAX_ITEM_LENGTH) continue;
    if (index - runStart >= 2) {
      replaced = redactRun(
        items as readonly string[],
        runStart,
        index,
        redactText,
        replaced,
        options.everyWindow === true,
      );
    }
    runStart = index + 1;
  }
  return replaced ?? NO_REPLACEMENTS;
}

/** What a list whose joined reading changes nothing gets back (most lists). */
const NO_REPLACEMENTS: ReadonlyMap<number, string> = new Map();

/**
 * Reads `items[start..end)` (all strings) in overlapping windows; first change wins. The map of
 * replacements is made when the first one is found.
 */
function redactRun(
  items: readonly string[],
  start: number,
  end: number,
  redactText: (text: string) => string,
  found: Map<number, string> | undefined,
  everyWindow: boolean,
): Map<number, string> | undefined {
  let replaced = found;
  for (let from = start; ; ) {
    let to = from + 1;
    let characters = (items[from] as string).length;
    while (to < end && to - from < WINDOW_ITEMS) {
      characters += 1 + (items[to] as string).length;
      if (to - from >= 2 && characters > WINDOW_CHARACTERS) break;
      to++;
    }
    const window = items.slice(from, to);
    const joined = window.join(' ');
    const redacted = everyWindow || readsAcrossItems(joined) ? redactText(joined) : joined;
    if (redacted !== joined) {
      replaced ??= new Map();
      const map = replaced;
      alignWindow(window, redacted).forEach((text, index) => {
        const position = from + index;
        if (text !== window[index] && !map.has(position)) map.set(position, text);
      });
    }
    if (to >= end) return replaced;
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
