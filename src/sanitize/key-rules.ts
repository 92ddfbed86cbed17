/**
 * Key rules: a value stored under a sensitive key (`password`, `openai_api_key`,
 * `http.request.header.authorization`) is replaced whole, whatever its type.
 *
 * Keys are split into words at separators and camelCase boundaries (`X-Auth-Token` → x, auth,
 * token; `APIKey` → api, key) and compared lowercased with separators removed. Three kinds of
 * rule keep ordinary keys such as `max_tokens`, `gen_ai.usage.input_tokens`, `token_count`,
 * `keyboard`, `monkey` and `sessions_count` intact:
 * - suffix rules match the key's trailing words (`db_password`, `x_auth_token`, `card_pin`),
 *   never a longer word (`tokens`, `shipping`);
 * - word rules match any whole word (`secret` in `secret_name`, not `secretary`);
 * - substring rules match unambiguous compounds anywhere, even without separators
 *   (`dbpassword`, `openaiapikey`, `password_confirmation`).
 */

/** Matched against the key's trailing words (joined) and the whole key. Rule name per entry. */
const SUFFIX_RULES: Readonly<Record<string, string>> = {
  token: 'token',
  accesstoken: 'access_token',
  refreshtoken: 'refresh_token',
  idtoken: 'id_token',
  authtoken: 'auth_token',
  sessiontoken: 'session_token',
  csrftoken: 'csrf_token',
  auth: 'auth',
  authorization: 'authorization',
  proxyauthorization: 'proxy_authorization',
  xapikey: 'api_key',
  accesskey: 'access_key',
  secretkey: 'secret_key',
  signingkey: 'signing_key',
  encryptionkey: 'encryption_key',
  masterkey: 'master_key',
  sessionkey: 'session_key',
  cookie: 'cookie',
  cookies: 'cookie',
  setcookie: 'set_cookie',
  session: 'session',
  pwd: 'password',
  ssn: 'ssn',
  cvv: 'cvv',
  cvv2: 'cvv',
  cvc: 'cvc',
  cvc2: 'cvc',
  pin: 'pin',
  pincode: 'pin',
  otp: 'otp',
  ccnumber: 'card_number',
};

/** Matched against any single word of the key. */
const WORD_RULES: ReadonlyMap<string, string> = new Map([
  ['secret', 'secret'],
  ['secrets', 'secret'],
]);

/** Matched anywhere in the normalized key; ordered so the more specific name wins. */
const SUBSTRING_RULES: ReadonlyArray<readonly [string, string]> = [
  ['clientsecret', 'client_secret'],
  ['privatekey', 'private_key'],
  ['apikey', 'api_key'],
  ['password', 'password'],
  ['passwd', 'password'],
  ['passphrase', 'passphrase'],
  ['credential', 'credentials'],
  ['sessionid', 'session_id'],
  ['creditcard', 'credit_card'],
  ['cardnumber', 'card_number'],
  ['socialsecurity', 'ssn'],
  ['bearertoken', 'bearer_token'],
];

const SEPARATORS = /[\s_.-]+/g;
const WORDS = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g;

/** Lowercase, with `_`, `-`, `.` and whitespace removed: `X-API-Key` → `xapikey`. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(SEPARATORS, '');
}

function splitWords(key: string): string[] {
  return (key.match(WORDS) ?? []).map((word) => word.toLowerCase());
}

export interface KeyRuleConfig {
  /** Extra keys: strings behave like suffix rules (rule name = the string), RegExps test the raw key. */
  extraKeys: ReadonlyArray<string | RegExp>;
  /** Keys exempt from key rules, compared normalized. */
  allowKeys: readonly string[];
}

/** Rule name reported for a key matched by a user RegExp. */
export const CUSTOM_KEY_RULE = 'custom_key';

const MAX_CACHED_KEYS = 4096;
const MAX_CACHED_KEY_LENGTH = 256;

/**
 * Compiles key rules into a lookup `key → rule name | undefined`. Results are cached per key:
 * attribute and field names repeat across millions of values.
 */
export function compileKeyRules(config: KeyRuleConfig): (key: string) => string | undefined {
  const suffixRules = new Map(Object.entries(SUFFIX_RULES));
  for (const key of config.extraKeys) {
    if (typeof key === 'string') suffixRules.set(normalizeKey(key), key);
  }
  const patterns = config.extraKeys
    .filter((key): key is RegExp => key instanceof RegExp)
    .map((pattern) => new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')));
  const allowed = new Set(config.allowKeys.map(normalizeKey));
  const cache = new Map<string, string | null>();

  function match(key: string): string | undefined {
    const normalized = normalizeKey(key);
    if (allowed.has(normalized)) return undefined;
    for (const pattern of patterns) {
      if (pattern.test(key)) return CUSTOM_KEY_RULE;
    }
    const exact = suffixRules.get(normalized);
    if (exact !== undefined) return exact;
    const words = splitWords(key);
    let suffix = '';
    const trailing: string[] = [];
    for (let index = words.length - 1; index >= 0; index--) {
      suffix = words[index] + suffix;
      trailing.push(suffix);
    }
    for (let index = trailing.length - 1; index >= 0; index--) {
      const rule = suffixRules.get(trailing[index] as string);
      if (rule !== undefined) return rule;
    }
    for (const [needle, rule] of SUBSTRING_RULES) {
      if (normalized.includes(needle)) return rule;
    }
    for (const word of words) {
      const rule = WORD_RULES.get(word);
      if (rule !== undefined) return rule;
    }
    return undefined;
  }

  return (key) => {
    const cached = cache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const rule = match(key);
    if (key.length <= MAX_CACHED_KEY_LENGTH) {
      if (cache.size >= MAX_CACHED_KEYS) cache.clear();
      cache.set(key, rule ?? null);
    }
    return rule;
  };
}
