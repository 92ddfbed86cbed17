/**
 * Secrets hidden by encoding: zero-width and other invisible characters inside a key
 * (`sk-ant-\u200Bapi03…`), percent-encoding (`alice%40example.com`) and base64
 * (`cGFzc3dvcmQ9aHVudGVyMg==`). The detectors then see what a reader of the value would see.
 */

/** Soft hyphen, Mongolian vowel separator, zero-width and bidi controls, word joiner, BOM. */
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
const HAS_INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/;

export function removeInvisible(text: string): string {
  return HAS_INVISIBLE.test(text) ? text.replace(INVISIBLE, '') : text;
}

const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;
/** A run of non-space characters holding at least one `%XX` escape. */
const PERCENT_RUN = /[^\s"'<>]*%[0-9A-Fa-f]{2}[^\s"'<>]*/g;
/** Base64 or base64url of 16–4096 characters (12+ decoded bytes), padded or not. */
const BASE64_RUN = /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{16,4096}={0,2}(?![A-Za-z0-9+/=_-])/g;
const BASE64_HINT = /[A-Za-z0-9+/_-]{16}/;
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

/** Text a person could read (UTF-8, printable), else undefined: random bytes are not text. */
export function decodeBase64Text(run: string): string | undefined {
  const body = run.replace(/=+$/, '');
  if (body.length % 4 === 1) return undefined;
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
 * its shape); a base64 run by `[REDACTED:encoded_secret]`. Decoding goes one level deep.
 */
export function redactEncoded(
  text: string,
  detect: (decoded: string) => string,
  marker: string,
): string {
  let result = text;
  if (PERCENT_ESCAPE.test(result)) {
    result = result.replace(PERCENT_RUN, (run) => {
      const decoded = decodePercent(run);
      if (decoded === undefined || decoded === run) return run;
      // `%E2%80%8B` decodes to a zero-width space: removed here as in plain text.
      const visible = removeInvisible(decoded);
      const redacted = detect(visible);
      return redacted === visible ? run : redacted;
    });
  }
  if (BASE64_HINT.test(result)) {
    result = result.replace(BASE64_RUN, (run) => {
      const decoded = decodeBase64Text(run);
      if (decoded === undefined) return run;
      const visible = removeInvisible(decoded);
      return detect(visible) === visible ? run : marker;
    });
  }
  return result;
}
