/**
 * Locating the real secret inside a regex candidate. A greedy pattern can swallow a neighbouring
 * group of digits (`4111 1111 1111 1111 2 items`), so validating the whole candidate would let a
 * valid card number or IBAN through; these helpers search the candidate at group boundaries.
 */

/** `[start, end)` offsets inside a candidate. */
export type Span = readonly [number, number];

const DIGIT_RUN = /\d+/g;
const MIN_CARD_DIGITS = 13;
const MAX_CARD_DIGITS = 19;
/** Printed card numbers group 4–6 digits (4-4-4-4, Amex 4-6-5); UUIDs have groups of 8 and 12. */
const MAX_GROUP_DIGITS = 6;

/**
 * Card numbers inside a run of digit groups (`4111 1111 1111 1111 2`, `1234 4111-1111-…`):
 * either one unseparated group of 13–19 digits, or windows of whole consecutive groups of at
 * most 6 digits, 13–19 digits in all; longest valid window first, scanned left to right.
 * Windows start only at a group beginning with 2–6, the first digit of every issuer prefix,
 * which keeps long runs of other digits cheap.
 */
export function findCardNumbers(
  candidate: string,
  isCardNumber: (digits: string) => boolean,
): Span[] {
  const groups: Array<{ start: number; end: number; digits: string }> = [];
  for (const match of candidate.matchAll(DIGIT_RUN)) {
    groups.push({ start: match.index, end: match.index + match[0].length, digits: match[0] });
  }
  const spans: Span[] = [];
  let first = 0;
  while (first < groups.length) {
    const lead = (groups[first] as { digits: string }).digits.charCodeAt(0);
    if (lead < 50 || lead > 54) {
      first++;
      continue;
    }
    let digits = '';
    let found = -1;
    for (let last = first; last < groups.length; last++) {
      const group = (groups[last] as { digits: string }).digits;
      const alone = last === first && group.length >= MIN_CARD_DIGITS;
      if (!alone && group.length > MAX_GROUP_DIGITS) break;
      digits += group;
      if (digits.length > MAX_CARD_DIGITS) break;
      if (digits.length >= MIN_CARD_DIGITS && isCardNumber(digits)) found = last;
      if (alone) break;
    }
    if (found === -1) {
      first++;
      continue;
    }
    spans.push([
      (groups[first] as { start: number }).start,
      (groups[found] as { end: number }).end,
    ]);
    first = found + 1;
  }
  return spans;
}

/**
 * The longest prefix of `candidate` that passes `isValid`, trying the whole candidate and then
 * every cut just before a separator (space, `-`, `.`) that follows a digit or `)`: a phone number
 * or IBAN followed by another group of digits is still found.
 */
export function findValidPrefix(candidate: string, isValid: (prefix: string) => boolean): Span[] {
  if (isValid(candidate)) return [[0, candidate.length]];
  for (let end = candidate.length - 1; end > 0; end--) {
    const separator = candidate[end];
    if (separator !== ' ' && separator !== '-' && separator !== '.') continue;
    const before = candidate.charCodeAt(end - 1);
    if (!((before >= 48 && before <= 57) || (before >= 65 && before <= 90) || before === 41))
      continue;
    if (isValid(candidate.slice(0, end))) return [[0, end]];
  }
  return [];
}
