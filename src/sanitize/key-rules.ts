/**
 * Key rules: a value stored under a sensitive key (`password`, `openai_api_key`,
 * `http.request.header.authorization`) is replaced whole, whatever its type.
 *
 * Keys are split into words at separators and camelCase boundaries (`X-Auth-Token` → x, auth,
 * token; `APIKey` → api, key) and compared lowercased with separators removed. Three kinds of
 * rule keep ordinary keys such as `max_tokens`, `gen_ai.usage.input_tokens`, `token_count`,
 * `keyboard`, `monkey` and `sessions_count` intact:
 * - suffix rules match the key's trailing words (`db_password`, `x_auth_token`, `card_pin`,
 *   `connect.sid`), never a longer word (`tokens`, `shipping`);
 * - substring rules match unambiguous compounds at the end, even without separators
 *   (`dbpassword`, `openaiapikey`);
 * - a secret word elsewhere in the key (`password_policy`, `secret_santa`, `has_token`,
 *   `password_confirmation`) only suggests a secret: the value is judged by itself
 *   (`strength: 'by_value'`).
 * Camel, snake, kebab and dotted spellings normalise alike (`securityCode`, `security-code`).
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
  sessid: 'session_id',
  phpsessid: 'session_id',
  jsessionid: 'session_id',
  connectsid: 'session_id',
  pwd: 'password',
  pw: 'password',
  passcode: 'passcode',
  bearer: 'bearer_token',
  jwt: 'jwt',
  dsn: 'dsn',
  databaseurl: 'database_url',
  dburl: 'database_url',
  connectionstring: 'connection_string',
  connstring: 'connection_string',
  connstr: 'connection_string',
  ssn: 'ssn',
  cvv: 'cvv',
  cvv2: 'cvv',
  cvc: 'cvc',
  cvc2: 'cvc',
  securitycode: 'security_code',
  pin: 'pin',
  pincode: 'pin',
  otp: 'otp',
  totp: 'otp',
  mfacode: 'otp',
  ccnumber: 'card_number',
  pan: 'card_number',
  accountnumber: 'account_number',
  acctnumber: 'account_number',
  accountno: 'account_number',
  bankaccount: 'account_number',
  iban: 'iban',
  mnemonic: 'mnemonic',
  seedphrase: 'mnemonic',
  recoverycodes: 'recovery_code',
  recoverycode: 'recovery_code',
  backupcodes: 'recovery_code',
  secret: 'secret',
  secrets: 'secret',
  clientsecret: 'client_secret',
  apisecret: 'api_secret',
  webhooksecret: 'webhook_secret',
  signingsecret: 'signing_secret',
};

/** Matched at the end of the normalized key; ordered so the more specific name wins. */
const SUBSTRING_RULES: ReadonlyArray<readonly [string, string]> = [
  ['clientsecret', 'client_secret'],
  ['privatekey', 'private_key'],
  ['apikey', 'api_key'],
  ['apisecret', 'api_secret'],
  ['password', 'password'],
  ['passwd', 'password'],
  ['passphrase', 'passphrase'],
  ['credential', 'credentials'],
  ['credentials', 'credentials'],
  ['sessionid', 'session_id'],
  ['creditcard', 'credit_card'],
  ['cardnumber', 'card_number'],
  ['socialsecurity', 'ssn'],
  ['socialsecuritynumber', 'ssn'],
  ['bearertoken', 'bearer_token'],
];

/** Words that, anywhere but at the end of a key, make its value worth judging. */
const SUGGESTIVE_WORDS: ReadonlySet<string> = new Set([
  'password',
  'passwd',
  'passphrase',
  'passcode',
  'secret',
  'secrets',
  'token',
  'apikey',
  'credential',
  'credentials',
  'auth',
  'pwd',
  'pin',
  'otp',
  'jwt',
  'bearer',
  'cookie',
  'session',
  'dsn',
  'ssn',
  'cvv',
]);

/** Rules whose values are secret even as numbers (`pin: 4321`, `cvv: 123`). */
const NUMERIC_SECRET_RULES: ReadonlySet<string> = new Set([
  'pin',
  'cvv',
  'cvc',
  'otp',
  'ssn',
  'security_code',
  'passcode',
  'card_number',
  'credit_card',
  'account_number',
  'password',
  'recovery_code',
]);

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

/** What a key says about its value. */
export interface KeyRuleMatch {
  /** Name used in the replacement, `[REDACTED:<rule>]`. */
  readonly rule: string;
  /** `whole`: a string value is replaced whatever it holds; `by_value`: only if it looks secret. */
  readonly strength: 'whole' | 'by_value';
  /** Numbers under this key are secrets too (PINs, CVVs); otherwise numbers and booleans are kept. */
  readonly numericSecret: boolean;
  /** A rule from `policy.keys`: the user asked for the value gone, whatever its type. */
  readonly userDefined: boolean;
}

/** Rule name reported for a key matched by a user RegExp. */
export const CUSTOM_KEY_RULE = 'custom_key';

const MAX_CACHED_KEYS = 4096;
const MAX_CACHED_KEY_LENGTH = 256;

function whole(rule: string, userDefined = false): KeyRuleMatch {
  return Object.freeze({
    rule,
    strength: 'whole',
    numericSecret: NUMERIC_SECRET_RULES.has(rule),
    userDefined,
  });
}

function byValue(rule: string): KeyRuleMatch {
  return Object.freeze({ rule, strength: 'by_value', numericSecret: false, userDefined: false });
}

/**
 * Compiles key rules into a lookup `key → KeyRuleMatch | undefined`. Results are cached per key:
 * attribute and field names repeat across millions of values.
 */
export function compileKeyRules(config: KeyRuleConfig): (key: string) => KeyRuleMatch | undefined {
  const suffixRules = new Map(
    Object.entries(SUFFIX_RULES).map(([key, rule]) => [key, whole(rule)] as const),
  );
  for (const key of config.extraKeys) {
    if (typeof key === 'string') suffixRules.set(normalizeKey(key), whole(key, true));
  }
  const patterns = config.extraKeys
    .filter((key): key is RegExp => key instanceof RegExp)
    .map((pattern) => new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')));
  const allowed = new Set(config.allowKeys.map(normalizeKey));
  const cache = new Map<string, KeyRuleMatch | null>();
  const custom = whole(CUSTOM_KEY_RULE, true);

  function match(key: string): KeyRuleMatch | undefined {
    const normalized = normalizeKey(key);
    if (allowed.has(normalized)) return undefined;
    for (const pattern of patterns) {
      if (pattern.test(key)) return custom;
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
      if (normalized.endsWith(needle)) return whole(rule);
    }
    for (const [needle, rule] of SUBSTRING_RULES) {
      if (normalized.includes(needle)) return byValue(rule);
    }
    for (const word of words) {
      if (SUGGESTIVE_WORDS.has(word)) return byValue(word);
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
