/**
 * Secrets hidden by encoding: zero-width and other invisible characters inside a key
 * (`sk-ant-\u200Bapi03…`), percent-encoding (`alice%40example.com`) and base64
 * (`cGFzc3dvcmQ9aHVudGVyMg==`). The detectors then see what a reader of the value would see.
 */

import { INVISIBLE, PERCENT, type TextFeatures } from './text-features.js';

/** Soft hyphen, Mongolian vowel separator, zero-width and bidi controls, word joiner, BOM. */
const INVISIBLE_CHARACTERS =
  /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

/** The prefilter flags the invisible characters exactly: other text is returned at once. */
export function removeInvisible(text: string, features: TextFeatures): string {
  return features.of(text).has(INVISIBLE) ? text.replace(INVISIBLE_CHARACTERS, '') : text;
}

const isHexDigit = (code: number) =>
  (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);

/** A `%XX` escape (`/%[0-9A-Fa-f]{2}/`), found by jumping from `%` to `%`. */
function hasPercentEscape(text: string): boolean {
  for (let index = text.indexOf('%'); index !== -1; index = text.indexOf('%', index + 1)) {
    if (isHexDigit(text.charCodeAt(index + 1)) && isHexDigit(text.charCodeAt(index + 2))) {
      return true;
    }
  }
  return false;
}
/** A run of non-space characters holding at least one `%XX` escape. */
const PERCENT_RUN = /[^\s"'<>]*%[0-9A-Fa-f]{2}[^\s"'<>]*/g;
/** Base64 or base64url of 16–4096 characters (12+ decoded bytes), padded or not. */
const BASE64_RUN = /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{16,4096}={0,2}(?![A-Za-z0-9+/=_-])/g;
/**
 * The same runs for short text, with the character before consumed instead of looked behind
 * (cheaper there); the run is group 1.
 */
const BASE64_RUN_SHORT =
  /(?:^|[^A-Za-z0-9+/=_-])([A-Za-z0-9+/_-]{16,4096}={0,2})(?![A-Za-z0-9+/=_-])/g;
const SHORT_TEXT = 256;
const PRINTABLE = /^[\t\n\r\x20-\x7e\u00a0-\uffff]*$/;

/** Written for an encoded run whose decoded text held a secret. */
export const ENCODED_SECRET = 'encoded_secret';

function decodePercent(run: string): string | undefined {
  try {
    return decodeURIComponent(run.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Sextet of a base64 or base64url character (`+`/`-` 62, `/`/`_` 63), else -1. */
function sextet(code: number): number {
  if (code >= 65 && code <= 90) return code - 65;
  if (code >= 97 && code <= 122) return code - 71;
  if (code >= 48 && code <= 57) return code + 4;
  if (code === 43 || code === 45) return 62;
  if (code === 47 || code === 95) return 63;
  return -1;
}

/**
 * Decodes the bytes in order and stops at the first one that proves the run is not readable
 * text (see `decodeBase64Text`): a control character other than tab, line feed and carriage
 * return, DEL, or a byte that breaks UTF-8 (the decoder would write U+FFFD). Random keys and
 * hashes fail within a few bytes, without a Buffer or a string being built. False means only
 * "not ruled out".
 */
function cannotBeText(body: string): boolean {
  let bits = 0;
  let width = 0;
  let continuations = 0;
  for (let index = 0; index < body.length; index++) {
    const value = sextet(body.charCodeAt(index));
    if (value < 0) return false;
    bits = ((bits << 6) | value) & 0xffffff;
    width += 6;
    if (width < 8) continue;
    width -= 8;
    const byte = (bits >> width) & 0xff;
    if (continuations > 0) {
      if (byte < 0x80 || byte > 0xbf) return true;
      continuations--;
    } else if (byte < 0x20) {
      if (byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return true;
    } else if (byte >= 0x7f) {
      if (byte === 0x7f || byte < 0xc2 || byte > 0xf4) return true;
      continuations = byte < 0xe0 ? 1 : byte < 0xf0 ? 2 : 3;
    }
  }
  return false;
}

/** Text a person could read (UTF-8, printable), else undefined: random bytes are not text. */
export function decodeBase64Text(run: string): string | undefined {
  let end = run.length;
  while (end > 0 && run.charCodeAt(end - 1) === 0x3d) end--;
  if (end % 4 === 1 || end * 0.75 < 12) return undefined;
  const body = end === run.length ? run : run.slice(0, end);
  if (cannotBeText(body)) return undefined;
  const bytes = Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length < 12) return undefined;
  const text = bytes.toString('utf8');
  if (text.includes('\uFFFD') || !PRINTABLE.test(text)) return undefined;
  let letters = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if ((code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 32) letters++;
  }
  return letters / text.length >= 0.5 ? text : undefined;
}

/**
 * Runs `detect` on the decoded form of every encoded run. A percent-encoded run is replaced by
 * its decoded, redacted form when that held something (`?email=[REDACTED:email]`: the URL keeps
 * its shape); a base64 run by `[REDACTED:encoded_secret]`. Decoding goes one level deep. Text
 * without `%` or without a run of 16 token characters is returned at once (`features`).
 */
export function redactEncoded(
  text: string,
  features: TextFeatures,
  detect: (decoded: string) => string,
  marker: string,
): string {
  let result = text;
  if (features.of(result).has(PERCENT) && hasPercentEscape(result)) {
    result = result.replace(PERCENT_RUN, (run) => {
      const decoded = decodePercent(run);
      if (decoded === undefined || decoded === run) return run;
      // `%E2%80%8B` decodes to a zero-width space: removed here as in plain text.
      const visible = removeInvisible(decoded, features);
      const redacted = detect(visible);
      return redacted === visible ? run : redacted;
    });
  }
  // `detect` above reused the facts for the decoded text: `of` rescans `result` if so.
  if (!features.of(result).tokenRun(16)) return result;
  const runs = result.length <= SHORT_TEXT ? BASE64_RUN_SHORT : BASE64_RUN;
  runs.lastIndex = 0;
  let output = '';
  let copied = 0;
  for (let match = runs.exec(result); match !== null; match = runs.exec(result)) {
    const run = match[1] ?? match[0];
    const decoded = decodeBase64Text(run);
    if (decoded === undefined) continue;
    const start = match.index + match[0].length - run.length;
    // `detect` may re-enter a redactor, which scans with this same RegExp.
    const resume = runs.lastIndex;
    const visible = removeInvisible(decoded, features);
    const clean = detect(visible) === visible;
    runs.lastIndex = resume;
    if (clean) continue;
    output += result.slice(copied, start) + marker;
    copied = start + run.length;
  }
  return copied === 0 ? result : output + result.slice(copied);
}
