/**
 * Makes strings storable: Postgres `jsonb` rejects `\u0000`, `text` rejects NUL bytes, and a lone
 * UTF-16 surrogate cannot be encoded as UTF-8.
 */

const NUL = /\0/g;

/** ES2024 string methods (Node 20+), not yet in the ES2023 library types this package builds with. */
interface WellFormedString {
  isWellFormed(): boolean;
  /** Replaces every lone surrogate with U+FFFD. */
  toWellFormed(): string;
}

/**
 * Removes NUL characters and replaces lone surrogates with U+FFFD. A string that needs neither
 * (emoji are well-formed surrogate pairs) comes back as the same string.
 */
export function toStorableString(text: string): string {
  const withoutNul = text.includes('\0') ? text.replace(NUL, '') : text;
  const checked = withoutNul as unknown as WellFormedString;
  return checked.isWellFormed() ? withoutNul : checked.toWellFormed();
}

function truncationMarker(removed: number): string {
  return `…[truncated ${removed} chars]`;
}

/**
 * Keeps the first `end` UTF-16 units of `text`, moved back so that a surrogate pair or a
 * replacement marker (`[REDACTED:…]`, `[email:…]`) is never split, and appends
 * `…[truncated N chars]`, where N = `originalLength` minus the kept prefix.
 */
export function cutString(text: string, end: number, originalLength: number): string {
  let cut = Math.max(0, Math.min(end, text.length));
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  const open = text.lastIndexOf('[', cut - 1);
  if (open !== -1 && cut - open <= 80) {
    const close = text.indexOf(']', open);
    if (close >= cut && /^\[[\w.-]+:/.test(text.slice(open, Math.min(close, open + 80)))) {
      cut = open;
    }
  }
  return text.slice(0, cut) + truncationMarker(originalLength - cut);
}

/**
 * Cuts `text` so that the result, marker included, is at most `maxLength` UTF-16 units. The
 * result is short enough to pass through again unchanged: redacting twice is harmless.
 */
export function truncateString(text: string, maxLength: number, originalLength: number): string {
  const reserve = truncationMarker(originalLength).length;
  return cutString(text, maxLength - reserve, originalLength);
}

const PLAIN_JSON_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** Exact byte size of `text` once serialized as a JSON string (quotes and escapes included). */
export function jsonStringBytes(text: string): number {
  if (PLAIN_JSON_STRING.test(text)) return text.length + 2;
  return Buffer.byteLength(JSON.stringify(text));
}
