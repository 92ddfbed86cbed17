/**
 * Judging a value by itself: used when a key only suggests a secret (`password_policy`,
 * `secret_santa`, prose such as "the token is …") and for bare tokens in free text.
 */

const WHITESPACE = /\s/;
const DIGIT = /\d/;
const SYMBOL = /[^\sA-Za-z0-9]/;

/**
 * A single opaque word that could be a password or key: no whitespace, 6–512 characters, and a
 * digit or symbol, or at least 12 characters. `hunter2!`, `s3cr3t-value` and
 * `correcthorsebatterystaple` are; `Alice`, `enabled`, `min 12 chars` are not.
 */
export function looksLikeSecretValue(value: string): boolean {
  const text = value.replace(/[.,;:!?)\]}"']+$/, '');
  if (text.length < 6 || text.length > 512 || WHITESPACE.test(text)) return false;
  if (
    /^(?:true|false|null|undefined|none|yes|no|on|off|enabled|disabled|required|optional)$/i.test(
      text,
    )
  ) {
    return false;
  }
  return DIGIT.test(text) || SYMBOL.test(text) || text.length >= 12;
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  const counts = new Map<number, number>();
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** A path segment that is a word (`src`, `Documents`): random keys almost never have one. */
const PATH_WORD = /^[A-Z]?[a-z]{3,}$/;

function classOf(code: number): number {
  if (code >= 48 && code <= 57) return 1;
  if (code >= 65 && code <= 90) return 2;
  if (code >= 97 && code <= 122) return 3;
  return 0;
}

/**
 * A machine-made secret (an AWS secret access key, an API key without a known prefix): at least
 * 32 characters mixing upper case, lower case and digits, at least 4 bits of entropy per
 * character, and changing character class often (random text does so on about 6 of 10
 * characters; paths and CamelCase names rarely). Hex hashes, UUIDs and model names fail the
 * class test, and paths (`/Users/Alice/Projects2024`) have word segments, so they are kept.
 */
export function looksLikeRandomToken(token: string): boolean {
  if (token.length < 32) return false;
  if (token.includes('/') && token.split('/').some((segment) => PATH_WORD.test(segment))) {
    return false;
  }
  let upper = 0;
  let lower = 0;
  let digits = 0;
  let switches = 0;
  let previous = -1;
  for (let index = 0; index < token.length; index++) {
    const kind = classOf(token.charCodeAt(index));
    if (kind === 1) digits++;
    else if (kind === 2) upper++;
    else if (kind === 3) lower++;
    if (previous !== -1 && kind !== previous) switches++;
    previous = kind;
  }
  if (upper === 0 || lower === 0 || digits === 0) return false;
  if (switches / token.length < 0.3) return false;
  return shannonEntropy(token) >= 4;
}
