import { findCardNumbers, findValidPrefix, type Span } from './candidate-spans.js';
import { isPaymentCardNumber, isValidIban } from './checksums.js';
import { decodeBase64Text } from './encoded-text.js';
import { createProviderTokenScanner } from './provider-tokens.js';
import {
  isDocumentationOrLoopbackIpv4,
  isDocumentationOrLoopbackIpv6,
} from './reserved-addresses.js';
import { looksLikeRandomToken, looksLikeSecretValue } from './secret-values.js';
import {
  AT,
  COLON,
  DASH,
  DIGIT,
  DOT,
  EQUALS,
  FREE_DIGIT,
  LETTER,
  LETTERS_THEN_DIGIT,
  LOWER,
  NON_ASCII,
  NON_HEX,
  PERCENT,
  SLASH,
  type TextFeatures,
  UNDERSCORE,
  UPPER,
  WHITESPACE,
} from './text-features.js';
import type { ValueDetector } from './types.js';

/**
 * Built-in value detectors, in the order they run. Each one sees the output of the ones before
 * it, so an earlier detector's replacement is never re-matched by a later, broader one (URL
 * credentials run before emails, IBANs before card numbers, IPv6 before IPv4). The
 * `key=value` detector runs last: a card number after `password: ` is found whole first, while
 * that detector would only mask up to the first space.
 *
 * Every pattern starting with a repeated class has a lookbehind that rejects a start inside a
 * run of that class, so each run is tried once: scanning stays linear on hostile input such as
 * 100k characters of `a@a.` or digits.
 */
export interface BuiltInDetector extends ValueDetector {
  /** What the prefilter's one-pass facts must show for the pattern to have a chance. */
  requires?: DetectorRequirements;
  /**
   * Further necessary condition (a shared word search, a fast shape regex): false only when the
   * pattern cannot match. Checked after `requires`, before `hint`.
   */
  gate?: (features: TextFeatures) => boolean;
  /** Cheap test on the whole string; the pattern only runs when it passes. */
  hint?: (text: string) => boolean;
  /** Spans of the candidate to replace, used instead of `validate` (none: the text is kept). */
  locate?: (candidate: string) => Span[];
  /**
   * After a rejected candidate, scan again from its second character rather than after it: a
   * candidate can start too early (`AA00 DE89 3704…`, `123 020 7946 0958`) and hide a real match.
   * Only for patterns whose candidates are short, so the rescan stays linear.
   */
  rescanAfterReject?: boolean;
  /** A user-supplied pattern: run on RE2 (linear time), never on the backtracking engine. */
  linear?: boolean;
  /** Finds spans itself (no `pattern` run): for rule sets that come with their own matchers. */
  scan?: (text: string) => Span[];
  /** Builds a `scan` per compiled redactor, for scanners that keep working buffers. */
  createScan?: () => (text: string) => Span[];
}

/**
 * Necessary conditions read from the prefilter (`TextFeatures`), checked without a function
 * call: a string that fails them cannot hold a match, so the detector is skipped.
 */
export interface DetectorRequirements {
  /** Character classes (`TextFeatures` flags) that must all occur. */
  all?: number;
  /** Character classes of which at least one must occur. */
  any?: number;
  /** Minimum number of ASCII digits. */
  digits?: number;
  /** Minimum number of digits in one run of `[0-9 .()+-]` (`TextFeatures.numberDigits`). */
  numberDigits?: number;
  /** Minimum number of dots. */
  dots?: number;
  /** Minimum length of the text. */
  length?: number;
  /** Minimum run of token characters `[A-Za-z0-9_+/=-]`. */
  tokenRun?: number;
}

const includes =
  (...needles: string[]) =>
  (text: string): boolean =>
    needles.some((needle) => text.includes(needle));

const testsPattern =
  (pattern: RegExp) =>
  (text: string): boolean =>
    pattern.test(text);

/**
 * Every word the word-led detectors (secret assignments, secrets in prose, Bearer, Basic) start
 * from, case-insensitively, grouped by first letter: pass, pw, pin, secret, token, key, otp,
 * one time, bearer, basic, authorization, credential, session, sessid, cookie, dsn, database,
 * connect.sid, security, account, jwt. One search (overlapping matches included) records which
 * occur, as bits, and each of the four detectors reads its own.
 */
const SECRET_WORDS =
  /a(?:ccount|uthorization)|b(?:asic|earer)|c(?:onnect\.sid|ookie|redential)|d(?:atabase|sn)|jwt|key|o(?:ne[ -]time|tp)|p(?:ass|in|w)|se(?:cret|curity|ssid|ssion)|token/gi;
/**
 * What `secret_prose` needs right at a word: the word (the rest of it after `pass`, `pw`, `key`)
 * and `is`, `was`, `will be`, `=` or `:` after whitespace. Prose mentions words like `pin`
 * (`shipping`) and `key` all the time; this keeps the prose pattern for the rare real shape.
 */
const PROSE_CONTEXT =
  /(?:pass(?:word|code|phrase|wd)|pwd?|pin|secret|token|key|otp|one[ -]time (?:code|password))\s{1,3}(?:is|was|will be|=|:)/iy;
/** Bit of each word, by its lower-case spelling (`one time` and `one-time` share one). */
const SECRET_WORD_BITS: ReadonlyMap<string, number> = new Map(
  [
    'pass',
    'pw',
    'pin',
    'secret',
    'token',
    'key',
    'otp',
    'one time',
    'bearer',
    'basic',
    'authorization',
    'credential',
    'session',
    'sessid',
    'cookie',
    'dsn',
    'database',
    'connect.sid',
    'security',
    'account',
    'jwt',
  ].map((word, index) => [word, 1 << index] as const),
);
const wordBits = (...words: string[]) =>
  words.reduce((bits, word) => bits | (SECRET_WORD_BITS.get(word) as number), 0);
/** Set when a word of `PROSE_WORDS` stands in `PROSE_CONTEXT`. */
const PROSE_SHAPE = 1 << SECRET_WORD_BITS.size;
const BEARER_WORD = wordBits('bearer');
const BASIC_WORD = wordBits('basic');
/** The words of `secret_prose`'s pattern: `/pass|pw|pin|secret|token|key|otp|one[ -]time/i`. */
const PROSE_WORDS = wordBits('pass', 'pw', 'pin', 'secret', 'token', 'key', 'otp', 'one time');
/** A word each name in `SECRET_KEY_WORDS` contains. */
const ASSIGNMENT_WORDS = wordBits(
  'pass',
  'pw',
  'secret',
  'token',
  'key',
  'authorization',
  'credential',
  'session',
  'sessid',
  'cookie',
  'dsn',
  'database',
  'connect.sid',
  'security',
  'account',
  'bearer',
  'jwt',
);

function findSecretWords(text: string): number {
  let bits = 0;
  SECRET_WORDS.lastIndex = 0;
  for (let match = SECRET_WORDS.exec(text); match !== null; match = SECRET_WORDS.exec(text)) {
    const word = match[0].toLowerCase();
    const bit = SECRET_WORD_BITS.get(word.startsWith('one') ? 'one time' : word) as number;
    bits |= bit;
    if ((bit & PROSE_WORDS) !== 0 && (bits & PROSE_SHAPE) === 0) {
      PROSE_CONTEXT.lastIndex = match.index;
      if (PROSE_CONTEXT.test(text)) bits |= PROSE_SHAPE;
    }
    SECRET_WORDS.lastIndex = match.index + 1;
  }
  return bits;
}

/** Whether any of `words` occurs in the text (searched once per text, then remembered). */
function hasSecretWord(features: TextFeatures, words: number): boolean {
  if (features.words < 0) features.words = findSecretWords(features.text);
  return (features.words & words) !== 0;
}

/** `\s` is ASCII whitespace or one of the Unicode spaces, all non-ASCII. */
const MAY_HAVE_WHITESPACE = WHITESPACE | NON_ASCII;

/** Key names whose assigned value in free text (`password=…`, `"api_key": "…"`) is a secret. */
const SECRET_KEY_WORDS =
  'passw(?:or)?d|passphrase|passcode|pwd|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|' +
  'client[_.-]?secret|authorization|credentials?|session[_.-]?id|cookie|dsn|database[_.-]?url|' +
  'phpsessid|jsessionid|connect\\.sid|security[_.-]?code|account[_.-]?number|bearer|jwt';

/**
 * `key=value`, `key: value`, `"key": "value"` and the backslash-escaped form found in
 * double-encoded JSON. The key and separator are kept; a quoted value is masked up to its
 * closing quote, an unquoted one up to whitespace or a delimiter, including an auth scheme
 * (`Authorization: Bearer x` masks `Bearer x`). A value that is already a replacement is left
 * alone, and the key may not follow `[`, so a hash tag such as `[private_key:3f9a1c0b]` is never
 * masked again.
 */
const secretAssignment: BuiltInDetector = {
  name: 'secret_assignment',
  pattern: new RegExp(
    String.raw`(?<keep>(?<![\w.\-[])[\w.-]{0,40}?(?:${SECRET_KEY_WORDS})\\?["']?\s{0,3}[:=]\s{0,3}\\?["']?)` +
      String.raw`(?!(?:\[REDACTED:[\w.-]+\]|\[[\w.-]+:[0-9a-f]{8}\])(?:["'\\\s&,;<>]|$))` +
      String.raw`(?:(?<=")[^"\\\n]{1,512}|(?<=')[^'\\\n]{1,512}|(?<![\\"'])(?:(?:Bearer|Basic|Token)\s+)?[^\s"'\\&,;<>]{1,512})`,
    'gi',
  ),
  requires: { all: LETTER, any: COLON | EQUALS },
  gate: (f) => hasSecretWord(f, ASSIGNMENT_WORDS),
  hint: testsPattern(new RegExp(`(?:${SECRET_KEY_WORDS})\\\\?["']?\\s{0,3}[:=]`, 'i')),
};

/**
 * PEM private key blocks. A block without its END line (cut by a length limit) is masked to the
 * end of the string: key material is secret even when truncated.
 */
const privateKey: BuiltInDetector = {
  name: 'private_key',
  pattern:
    /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY-----|$)/g,
  requires: { all: DASH | LETTER, tokenRun: 10, length: 26 },
  hint: includes('PRIVATE KEY-----'),
};

/** `scheme://user:pass@host`: the scheme and host are kept, the userinfo is masked. */
const urlCredentials: BuiltInDetector = {
  name: 'url_credentials',
  pattern: /(?<keep>(?<![\w+.-])[a-z][\w+.-]{0,30}:\/\/)[^\s/?#@]+(?:@[^\s/?#@]+)*(?=@)/gi,
  requires: { all: COLON | SLASH | AT | LETTER },
  hint: (text) => text.includes('://') && text.includes('@'),
};

/** Bearer tokens are opaque; require a digit or a length no English word reaches. */
function looksLikeBearerToken(token: string): boolean {
  return token.length >= 20 || (token.length >= 8 && /\d/.test(token));
}

const bearerToken: BuiltInDetector = {
  name: 'bearer_token',
  pattern: /(?<keep>\bBearer\s{1,10})[\w\-.~+/]{8,4096}=*/gi,
  validate: looksLikeBearerToken,
  requires: { all: LETTER, any: MAY_HAVE_WHITESPACE },
  gate: (f) => hasSecretWord(f, BEARER_WORD),
};

/** Basic credentials decode to printable `user:password`; prose after "basic" does not. */
function isBasicCredential(candidate: string): boolean {
  if (candidate.length % 4 === 1) return false;
  const decoded = Buffer.from(candidate, 'base64').toString('latin1');
  return decoded.includes(':') && /^[\x20-\x7e]+$/.test(decoded);
}

const basicAuth: BuiltInDetector = {
  name: 'basic_auth',
  pattern: /(?<keep>\bBasic\s{1,10})[A-Za-z0-9+/]{6,4096}={0,2}(?![\w+/=])/gi,
  validate: isBasicCredential,
  requires: { all: LETTER, any: MAY_HAVE_WHITESPACE },
  gate: (f) => hasSecretWord(f, BASIC_WORD),
};

/** Three base64url segments with a JSON header (`eyJ` is base64 for `{"`); the signature may be empty. */
const jwt: BuiltInDetector = {
  name: 'jwt',
  pattern: /(?<![\w-])eyJ[\w-]{5,}\.[\w-]{2,}\.[\w-]*/g,
  requires: { all: LETTER | DOT, tokenRun: 8, length: 12 },
  hint: includes('eyJ'),
};

const anthropicApiKey: BuiltInDetector = {
  name: 'anthropic_api_key',
  pattern: /(?<![\w-])sk-ant-[\w-]{20,}/g,
  requires: { all: DASH | LETTER, tokenRun: 27 },
  hint: includes('sk-ant-'),
};

/** Legacy `sk-…` and project / service-account keys `sk-proj-…`, `sk-svcacct-…`. */
const openaiApiKey: BuiltInDetector = {
  name: 'openai_api_key',
  pattern: /(?<![\w-])sk-[\w-]{20,}/g,
  requires: { all: DASH | LETTER, tokenRun: 23 },
  hint: includes('sk-'),
};

const githubToken: BuiltInDetector = {
  name: 'github_token',
  pattern: /(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,})/g,
  requires: { all: UNDERSCORE | LETTER, tokenRun: 33 },
  hint: testsPattern(/gh[pousr]_|github_pat_/),
};

const stripeKey: BuiltInDetector = {
  name: 'stripe_key',
  pattern: /(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}/g,
  requires: { all: UNDERSCORE | LETTER, tokenRun: 18 },
  hint: testsPattern(/_(?:live|test)_/),
};

const slackToken: BuiltInDetector = {
  name: 'slack_token',
  pattern: /(?<![\w-])xox[abprse]-[A-Za-z0-9-]{10,}/g,
  requires: { all: DASH | LETTER, tokenRun: 15 },
  hint: includes('xox'),
};

const googleApiKey: BuiltInDetector = {
  name: 'google_api_key',
  pattern: /(?<![\w-])AIza[\w-]{33,40}(?![\w-])/g,
  requires: { all: LETTER, tokenRun: 37 },
  hint: includes('AIza'),
};

const awsAccessKeyId: BuiltInDetector = {
  name: 'aws_access_key_id',
  pattern: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g,
  requires: { all: LETTER, tokenRun: 20 },
  hint: includes('AKIA', 'ASIA'),
};

/**
 * One pass over the literal markers the preset's formats start with or sit next to (AKIA, ASIA,
 * aws, AIza, BEGIN, cf??_, dapi, dose, dckr_, eyJ, fig?_, gh?_, github_pat, gl…-, gsk_,
 * hooks.slack, hf_, hv?., key, lin_, npm_, ntn_, ops_, SG., shp, sk-, secret_, T3BlbkFJ, tskey,
 * token, vc?_, xox, _auth, _live_, _test_, ://), grouped by first letter so each position tries
 * one branch; the 27 rules only run on strings holding one and a run of 16+ token characters
 * (a key body, a webhook path).
 */
const PROVIDER_MARKERS =
  /a(?:kia|sia|ws|iza)|begin|cf[a-z]{2}_|d(?:api|ose|ckr_)|eyj|fig[do]_|g(?:h[pousr]_|ithub_pat|l[a-z]{1,4}[-_]|sk_)|h(?:ooks\.slack|f_|v[sb]\.)|key|lin_|n(?:pm_|tn_)|ops_|s(?:g\.|hp|k-|ecret_)|t(?:3blbkfj|skey|oken)|vc[pikar]_|xox|_(?:auth|live_|test_)|:\/\//i;

/** Token formats of secretlint's recommended preset, through its rule interface. */
const providerToken: BuiltInDetector = {
  name: 'provider_token',
  pattern: /(?!)/g,
  createScan: () => {
    const scanner = createProviderTokenScanner();
    return (text) => scanner.scan(text);
  },
  requires: { all: NON_HEX, tokenRun: 16 },
  hint: testsPattern(PROVIDER_MARKERS),
};

/**
 * Prefixed tokens whose exact length varies between vendors' generations, as a fallback to the
 * rule set: npm, Hugging Face, GitLab, Stripe webhook signing secrets, DigitalOcean, Shopify,
 * PyPI, Twilio API keys (`SK` + 32 hex), SendGrid (`SG.`).
 */
const prefixedToken: BuiltInDetector = {
  name: 'prefixed_token',
  pattern:
    /(?<![\w-])(?:(?:npm_|hf_|glpat-|gldt-|glrt-|whsec_|dop_v1_|shp(?:at|ss|ca|pa)_|pypi-)[A-Za-z0-9_+/=-]{16,}|SK[0-9a-fA-F]{32}|SG\.[\w-]{16,}\.[\w-]{16,})(?![\w-])/g,
  requires: { all: NON_HEX | LETTER, tokenRun: 16 },
  hint: testsPattern(/npm_|hf_|gl(?:pat|dt|rt)-|whsec_|dop_v1_|shp|pypi-|SK[0-9a-f]|SG\./),
};

/** Slack incoming webhooks: the host stays, the path (which is the credential) is masked. */
const slackWebhook: BuiltInDetector = {
  name: 'slack_webhook',
  pattern: /(?<keep>https:\/\/hooks\.slack\.com\/)(?:services|workflows|triggers)\/[\w/-]{10,}/gi,
  requires: { all: SLASH | COLON | DOT | LETTER, tokenRun: 19 },
  hint: includes('hooks.slack.com'),
};

const SECRET_FLAG_WORDS =
  'password|passwd|passphrase|passcode|pass|pwd|token|secret|api[_-]?key|access[_-]?key|' +
  'private[_-]?key|auth|credentials?';

/**
 * Command lines: `--password X`, `--api-token=X`, `-pX` / `-p X` (the MySQL client form; a port
 * such as `-p 8080:80` is kept) and `curl -u user:pw` / `--user user:pw` (both parts masked).
 */
const cliSecretFlag: BuiltInDetector = {
  name: 'cli_secret',
  pattern: new RegExp(
    String.raw`(?<keep>(?<![\w-])(?:--?(?:[A-Za-z][\w-]{0,40}?)?(?:${SECRET_FLAG_WORDS})(?:=|\s{1,5})|-p\s{0,5}|(?:-u|--user)(?:=|\s{1,5})(?=["']?[^\s"':]{1,128}:))["']?)` +
      String.raw`(?!-)(?!\d+(?:[:/]\d+)*(?:["'\s]|$))[^\s"']{1,512}`,
    'gi',
  ),
  requires: { all: DASH },
  // The `(?:^|\s)-` hint, stricter than the pattern's own start.
  gate: (f) => f.dashOpensWord(),
};

/** "the password is X", "my PIN was X", "api key: X": the value must itself look like a secret. */
const secretInProse: BuiltInDetector = {
  name: 'secret_prose',
  pattern:
    /(?<keep>\b(?:password|passcode|passphrase|passwd|pwd|pw|pin|secret|token|api[ _-]?key|access[ _-]?key|otp|one[ -]time (?:code|password))\s{1,3}(?:is|was|will be|=|:)\s{0,3}["'“]?)[^\s"'”]{4,512}/gi,
  validate: looksLikeSecretValue,
  requires: { all: LETTER, any: MAY_HAVE_WHITESPACE },
  gate: (f) => hasSecretWord(f, PROSE_SHAPE),
};

/** Long random-looking tokens with no known prefix, e.g. a 40-character AWS secret access key. */
const highEntropyToken: BuiltInDetector = {
  name: 'high_entropy',
  pattern: /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{32,512}={0,2}(?![A-Za-z0-9+/=_-])/g,
  // Base64 of readable text is judged by what it decodes to (see encoded-text.ts), not here.
  validate: (candidate) =>
    looksLikeRandomToken(candidate.replace(/=+$/, '')) && decodeBase64Text(candidate) === undefined,
  // A random token mixes upper case, lower case and digits (`looksLikeRandomToken`).
  requires: { all: DIGIT | UPPER | LOWER, tokenRun: 32 },
};

/**
 * A search for `body` where it does not follow a character of `[classes]`. Long text is searched
 * with a lookbehind, which lets the engine skip ahead natively; a short string with the
 * character before consumed instead (`^` or `[^classes]`), since a lookbehind tried at every
 * position costs more there. Both answer the same.
 */
function afterNone(classes: string, body: string): (text: string) => boolean {
  const long = new RegExp(`(?<![${classes}])${body}`);
  const short = new RegExp(`(?:^|[^${classes}])${body}`);
  return (text) => (text.length <= SHORT_SEARCH ? short : long).test(text);
}

/** Up to this length a search consumes the character before rather than looking behind. */
const SHORT_SEARCH = 256;

/**
 * Shapes the number-led detectors cannot match without, each a fast search: two letters opening
 * a word before two digits (IBAN); 13 digits with single separators (cards); SSN groups 3-2-4,
 * or an SSN keyword; a phone number's opening where one may start (not inside a word, number or
 * path): `+`, `(`, a trunk `0`, or `ddd-ddd-d`, and 8 digits with up to three of `( ).+-`
 * between them; four numbers joined by dots (IPv4). IPv6 is checked from each colon
 * (`TextFeatures.ipv6Lead`).
 */
const IBAN_SHAPE = afterNone('A-Za-z0-9', String.raw`[A-Za-z]{2}\d\d`);
const CARD_SHAPE = /\d(?:[ .-]?\d){12}/;
const SSN_GROUPS_SHAPE = /\d{3}[- ]\d{2}[- ]\d{4}/;
const SSN_WORD = /ssn|social security|ss#/i;
const PHONE_BLOCKERS = String.raw`\w+\-.,/:#$€£`;
const PHONE_OPENING_SHAPE = afterNone(
  PHONE_BLOCKERS,
  String.raw`(?:[+(]|0|\d{3}[ .-]\d{3}[ .-]\d)`,
);
const PHONE_DIGITS = afterNone(PHONE_BLOCKERS, String.raw`[+(]?\d(?:[ .()+-]{0,3}\d){7}`);
const IPV4_SHAPE = /\d\.\d{1,3}\.\d{1,3}\.\d/;

/** Local part, `@`, dot-separated labels and an alphabetic TLD. Keys are scanned too. */
const email: BuiltInDetector = {
  name: 'email',
  pattern:
    /(?<![\w.%+-])[\w.%+-]{1,64}(?:@|%40)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,10}[A-Za-z]{2,24}(?![\w-])/g,
  requires: { any: AT | PERCENT, length: 6 },
  hint: includes('@', '%40'),
};

/** Country code, check digits, then 11–30 alphanumerics, optionally in groups of four. */
const iban: BuiltInDetector = {
  name: 'iban',
  pattern:
    /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?(?![A-Za-z0-9])/g,
  locate: (candidate) => findValidPrefix(candidate, (prefix) => isValidIban(prefix.toUpperCase())),
  rescanAfterReject: true,
  requires: { all: LETTERS_THEN_DIGIT, numberDigits: 2, length: 12 },
  gate: (f) => IBAN_SHAPE(f.text),
};

/**
 * 13–19 digits, optionally grouped by spaces, dots or dashes, confirmed by issuer prefix and Luhn. The
 * pattern takes a whole run of digit groups not glued to letters (the leading digits of a hex
 * trace id are not a card); the card is then searched at group boundaries.
 */
const paymentCard: BuiltInDetector = {
  name: 'payment_card',
  pattern: /(?<![A-Za-z0-9])\d(?:[ .-]?\d){12,}(?![A-Za-z0-9])/g,
  locate: (candidate) => findCardNumbers(candidate, isPaymentCardNumber),
  requires: { all: DIGIT, numberDigits: 13 },
  gate: (f) => CARD_SHAPE.test(f.text),
};

/**
 * US SSN `123-45-6789` or `123 45 6789`; nine bare digits only right after `SSN` or "social
 * security number" (alone they are far more often an order or account id). Area 000, 666 and
 * 900–999, group 00 and serial 0000 are never issued.
 */
const ssn: BuiltInDetector = {
  name: 'ssn',
  pattern: new RegExp(
    String.raw`(?<keep>\b(?:ssn|social security(?: number)?|ss#)\W{0,4})(?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4}(?!\d)` +
      String.raw`|(?<![\w-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\2(?!0000)\d{4}(?![\w-])`,
    'gi',
  ),
  requires: { all: DIGIT, numberDigits: 9 },
  // Dashed groups start at a free digit; nine digits in a row follow the keyword.
  gate: (f) =>
    (f.has(FREE_DIGIT) && SSN_GROUPS_SHAPE.test(f.text)) ||
    (f.digitRun >= 9 && f.has(LETTER) && SSN_WORD.test(f.text)),
};

function countDigits(text: string): number {
  let count = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 48 && code <= 57) count++;
  }
  return count;
}

/**
 * International numbers need 8–15 digits (E.164). North American numbers need area code and
 * exchange starting 2–9. Trunk-prefixed national numbers (`020 7946 0958`) need 9–13 digits,
 * which rules out dates such as `05 11 2026`.
 */
function isPlausiblePhoneNumber(candidate: string): boolean {
  const digits = countDigits(candidate);
  if (candidate.startsWith('+')) return digits >= 8 && digits <= 15;
  if (candidate.startsWith('0')) return digits >= 9 && digits <= (candidate[1] === '0' ? 17 : 13);
  const nanp = candidate.replace(/\D/g, '');
  return (
    nanp.length === 10 && nanp[0] !== '0' && nanp[0] !== '1' && nanp[3] !== '0' && nanp[3] !== '1'
  );
}

/**
 * Phone numbers need separators or a leading `+`: a bare run of digits is more often an id or an
 * epoch timestamp than a phone number. Dates, times, versions, prices and order numbers do not
 * fit these shapes (`2026-11-27` is 4-2-2, `ORD-2024-000123` follows a dash).
 */
const phone: BuiltInDetector = {
  name: 'phone',
  pattern: new RegExp(
    String.raw`(?<![\w+\-.,/:#$€£])(?:` +
      String.raw`\+\d{1,4}(?:[ .\-]?\(\d{1,4}\))?(?:[ .\-]\d{1,10}){1,6}` +
      String.raw`|\+\d{7,15}` +
      String.raw`|\(\d{3}\)[ .\-]?\d{3}[ .\-]\d{4}` +
      String.raw`|\d{3}([ .\-])\d{3}\1\d{4}` +
      String.raw`|0(?:[1-9]\d{0,3}|0[1-9]\d{0,2})(?:[ \-]\d{2,8}){1,4}` +
      String.raw`)(?![\w\-/:]|[.,]\d)`,
    'g',
  ),
  locate: (candidate) => findValidPrefix(candidate, isPlausiblePhoneNumber),
  rescanAfterReject: true,
  requires: { all: FREE_DIGIT, numberDigits: 8 },
  // Measured, the opening and the digits are known; rewritten text is searched again.
  gate: (f) => PHONE_OPENING_SHAPE(f.text) && PHONE_DIGITS(f.text),
};

const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function isIpv4(text: string): boolean {
  const octets = text.split('.');
  return (
    octets.length === 4 &&
    octets.every((octet) => /^(?:0|[1-9]\d{0,2})$/.test(octet) && Number(octet) <= 255)
  );
}

/**
 * RFC 4291 text form: eight groups, or fewer with exactly one `::`, optionally ending in an
 * IPv4 address. A digit is required so that `add::a` in code is not an address; times like
 * `09:27:09` and MAC addresses fail the group count.
 */
function isIpv6(candidate: string): boolean {
  if (!/\d/.test(candidate)) return false;
  const halves = candidate.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === '' ? [] : half.split(':')));
  const last = groups[groups.length - 1];
  let groupCount = groups.length;
  if (last?.includes('.')) {
    if (!isIpv4(last)) return false;
    groups.pop();
    groupCount += 1;
  }
  if (!groups.every((group) => HEX_GROUP.test(group))) return false;
  return halves.length === 2 ? groupCount <= 7 : groupCount === 8;
}

const ipv6: BuiltInDetector = {
  name: 'ipv6',
  pattern:
    /(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:]|\.\d)/g,
  validate: (candidate) => isIpv6(candidate) && !isDocumentationOrLoopbackIpv6(candidate),
  requires: { all: DIGIT | COLON, length: 3 },
  gate: (f) => f.ipv6Lead(),
};

/**
 * Dotted quads with octets 0–255 and no leading zeros. A four-part version string is
 * indistinguishable from an address and is masked unless prefixed with `v` (`v1.2.3.4`);
 * three-part versions (`20.20.2`) and longer dotted numbers (OIDs) are never addresses.
 */
const ipv4: BuiltInDetector = {
  name: 'ipv4',
  pattern:
    /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g,
  validate: (candidate) => !isDocumentationOrLoopbackIpv4(candidate),
  requires: { all: DIGIT | DOT, digits: 4, dots: 3 },
  gate: (f) => IPV4_SHAPE.test(f.text),
};

/** All built-in detectors in the order they run. */
export const BUILT_IN_DETECTOR_DEFINITIONS: readonly BuiltInDetector[] = [
  privateKey,
  urlCredentials,
  bearerToken,
  basicAuth,
  jwt,
  anthropicApiKey,
  openaiApiKey,
  githubToken,
  stripeKey,
  slackToken,
  googleApiKey,
  awsAccessKeyId,
  slackWebhook,
  prefixedToken,
  providerToken,
  cliSecretFlag,
  secretInProse,
  email,
  iban,
  paymentCard,
  ssn,
  phone,
  ipv6,
  ipv4,
  secretAssignment,
  highEntropyToken,
];

/** Names of the built-in detectors, usable in `policy.disable` and `policy.modes`. */
export const BUILT_IN_DETECTORS: readonly string[] = Object.freeze(
  BUILT_IN_DETECTOR_DEFINITIONS.map((detector) => detector.name),
);

/**
 * Detectors that find personal data rather than credentials: switched off by the
 * secrets-only redactor used when content capture is `full`. Card numbers and SSNs stay masked
 * there too: PCI DSS forbids storing a full card number, and an SSN is a credential in practice.
 */
export const PERSONAL_DATA_DETECTORS: readonly string[] = Object.freeze([
  'email',
  'phone',
  'iban',
  'ipv4',
  'ipv6',
]);
