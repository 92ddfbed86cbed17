import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BUILT_IN_DETECTORS,
  createRedactor,
  getDefaultRedactor,
  type JsonValue,
  PERSONAL_DATA_DETECTORS,
  REDACTION_FAILED,
  type ValueDetector,
} from '../src/sanitize/index.js';

/** A secret planted in a realistic sentence, and the built-in detector that must catch it. */
interface CorpusCase {
  detector: string;
  text: string;
  secret: string;
}

const JWT_A =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const JWT_B = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const PEM_BODY = 'MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0';

const SECRET_CORPUS: CorpusCase[] = [
  {
    detector: 'private_key',
    text: `Here is the deploy key:\n-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}\n-----END RSA PRIVATE KEY-----\nplease rotate it.`,
    secret: PEM_BODY,
  },
  {
    detector: 'private_key',
    text: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----',
    secret: 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB',
  },
  {
    detector: 'private_key',
    text: `The log was cut: -----BEGIN PRIVATE KEY-----\n${PEM_BODY}`,
    secret: PEM_BODY,
  },
  {
    detector: 'url_credentials',
    text: 'Connecting to postgres://admin:s3cr3tPassw0rd@db.internal:5432/app failed.',
    secret: 's3cr3tPassw0rd',
  },
  {
    detector: 'url_credentials',
    text: 'Pulling from https://deploy:Tr0ub4dor-and-3@registry.example.com/v2/app now.',
    secret: 'Tr0ub4dor-and-3',
  },
  {
    detector: 'bearer_token',
    text: 'The client sent bearer 8f2a9c1e4b7d6a3f0e11 with the request.',
    secret: '8f2a9c1e4b7d6a3f0e11',
  },
  {
    detector: 'bearer_token',
    text: 'Bearer QWxhZGRpbkFuZFRoZUxhbXBPcGVu was rejected by the gateway.',
    secret: 'QWxhZGRpbkFuZFRoZUxhbXBPcGVu',
  },
  {
    detector: 'basic_auth',
    text: 'The proxy forwarded Basic dXNlcjpwYXNzd29yZA== to the upstream.',
    secret: 'dXNlcjpwYXNzd29yZA==',
  },
  {
    detector: 'basic_auth',
    text: 'curl sent basic YWxhZGRpbjpvcGVuc2VzYW1l and got a 200',
    secret: 'YWxhZGRpbjpvcGVuc2VzYW1l',
  },
  { detector: 'jwt', text: `Session cookie was ${JWT_A} when it expired.`, secret: JWT_A },
  { detector: 'jwt', text: `id_token(${JWT_B}) came back from the IdP`, secret: JWT_B },
  {
    detector: 'anthropic_api_key',
    text: 'Use sk-ant-api03-FAKEk3y0nly4T3sts-abcdefghijklmnopqrstuvwxyz012345 for Claude.',
    secret: 'sk-ant-api03-FAKEk3y0nly4T3sts-abcdefghijklmnopqrstuvwxyz012345',
  },
  {
    detector: 'anthropic_api_key',
    text: 'ANTHROPIC_KEY is "sk-ant-admin01-FAKEFAKEFAKEFAKEFAKEFAKE_0123456789"',
    secret: 'sk-ant-admin01-FAKEFAKEFAKEFAKEFAKEFAKE_0123456789',
  },
  {
    detector: 'openai_api_key',
    text: 'My OpenAI key is sk-proj-FAKEabcdefghijklmnopqrstuvwxyz0123456789_ABCDEF, keep it safe.',
    secret: 'sk-proj-FAKEabcdefghijklmnopqrstuvwxyz0123456789_ABCDEF',
  },
  {
    detector: 'openai_api_key',
    text: 'Legacy key sk-FAKE1234567890abcdefghijklmnopqrstuvwxyzABCDEFGH still works.',
    secret: 'sk-FAKE1234567890abcdefghijklmnopqrstuvwxyzABCDEFGH',
  },
  {
    detector: 'github_token',
    text: 'git push used ghp_FAKE0123456789abcdefghijklmnopqrstuvwx yesterday',
    secret: 'ghp_FAKE0123456789abcdefghijklmnopqrstuvwx',
  },
  {
    detector: 'github_token',
    text: 'The fine-grained token github_pat_11FAKE0000000000000000_abcdefghijklmnopqrstuvwxyz0123456789 was revoked.',
    secret: 'github_pat_11FAKE0000000000000000_abcdefghijklmnopqrstuvwxyz0123456789',
  },
  {
    detector: 'stripe_key',
    text: 'Charge with sk_live_FAKE51H8xYzAbCdEfGhIjKlMnOp in production.',
    secret: 'sk_live_FAKE51H8xYzAbCdEfGhIjKlMnOp',
  },
  {
    detector: 'stripe_key',
    text: 'Restricted key rk_live_FAKE9fQ2LmN4pR7sT1vX and test key sk_test_FAKE4eC39HqLyjWDarjt.',
    secret: 'rk_live_FAKE9fQ2LmN4pR7sT1vX',
  },
  {
    detector: 'slack_token',
    text: 'The bot token xoxb-0000000000-0000000000000-FAKEfakeFAKEfake leaked in chat.',
    secret: 'xoxb-0000000000-0000000000000-FAKEfakeFAKEfake',
  },
  {
    detector: 'slack_token',
    text: 'user token: xoxp-1111111111-2222222222-FAKEfakeFAKE',
    secret: 'xoxp-1111111111-2222222222-FAKEfakeFAKE',
  },
  {
    detector: 'google_api_key',
    text: 'Maps call used AIzaSyFAKE0123456789abcdefghijklmnopqrs today.',
    secret: 'AIzaSyFAKE0123456789abcdefghijklmnopqrs',
  },
  {
    detector: 'google_api_key',
    text: 'key=AIzaFAKE_abcdefghijklmnopqrstuvwxyz-012345&q=paris',
    secret: 'AIzaFAKE_abcdefghijklmnopqrstuvwxyz-012345',
  },
  {
    detector: 'aws_access_key_id',
    text: 'The access key AKIAIOSFODNN7EXAMPLE belongs to the CI user.',
    secret: 'AKIAIOSFODNN7EXAMPLE',
  },
  {
    detector: 'aws_access_key_id',
    text: 'STS returned ASIAY34FZKBOKMUTVV7A for the session.',
    secret: 'ASIAY34FZKBOKMUTVV7A',
  },
  {
    detector: 'email',
    text: 'Please email alice.smith+billing@example.co.uk about the refund.',
    secret: 'alice.smith+billing@example.co.uk',
  },
  {
    detector: 'email',
    text: 'Forwarded to <bob_99@corp.example.com>.',
    secret: 'bob_99@corp.example.com',
  },
  {
    detector: 'iban',
    text: 'Wire the refund to DE89 3704 0044 0532 0130 00 by Friday.',
    secret: '3704 0044 0532 0130',
  },
  {
    detector: 'iban',
    text: 'IBAN:GB82WEST12345698765432 (Westminster branch)',
    secret: 'GB82WEST12345698765432',
  },
  {
    detector: 'iban',
    text: 'Belgian account BE68 5390 0754 7034 1234 is the reference, not part of it.',
    secret: '5390 0754 7034',
  },
  {
    detector: 'payment_card',
    text: 'My card is 4111 1111 1111 1111, expiry 12/27.',
    secret: '4111 1111 1111 1111',
  },
  {
    detector: 'payment_card',
    text: 'Charged 5500-0000-0000-0004 for $1,299.99.',
    secret: '5500-0000-0000-0004',
  },
  {
    detector: 'payment_card',
    text: 'Amex 378282246310005 on file; 4111 1111 1111 1111 2 items in cart',
    secret: '378282246310005',
  },
  {
    detector: 'ssn',
    text: 'Applicant SSN 123-45-6789 was verified.',
    secret: '123-45-6789',
  },
  {
    detector: 'ssn',
    text: 'SSN on the W-2: 078-05-1120.',
    secret: '078-05-1120',
  },
  {
    detector: 'phone',
    text: 'Call me at +1 (415) 555-0134 after 5pm.',
    secret: '555-0134',
  },
  {
    detector: 'phone',
    text: 'Office: 415-555-0134, mobile (415) 555-0199.',
    secret: '555-0199',
  },
  {
    detector: 'phone',
    text: 'London desk 020 7946 0958 or +44 20 7946 0958.',
    secret: '7946 0958',
  },
  {
    detector: 'phone',
    text: 'Berlin +49 30 1234567 and compact +14155550134.',
    secret: '1234567',
  },
  {
    detector: 'ipv6',
    text: 'Request from 2a00:1450::8a2e:370:7334 was throttled.',
    secret: '2a00:1450::8a2e:370:7334',
  },
  {
    detector: 'ipv6',
    text: 'Peer fe80::1ff:fe23:4567:890a and 2a00:1450:85a3:0000:0000:8a2e:0370:7334 connected.',
    secret: '2a00:1450:85a3:0000:0000:8a2e:0370:7334',
  },
  {
    detector: 'ipv4',
    text: 'Login from 81.2.69.45 at 09:27.',
    secret: '81.2.69.45',
  },
  {
    detector: 'ipv4',
    text: 'upstream 10.0.0.1:8080 timed out, retrying 192.168.1.10.',
    secret: '192.168.1.10',
  },
  {
    detector: 'provider_token',
    text: 'Issue sync uses lin_api_Qz9Xr4Tp1Wn6Ls3Vb8Yk2Gm7Hd5Fc0Ja1Se3Ru6Iv for triage.',
    secret: 'lin_api_Qz9Xr4Tp1Wn6Ls3Vb8Yk2Gm7Hd5Fc0Ja1Se3Ru6Iv',
  },
  {
    detector: 'provider_token',
    text: 'Found AKIA-free creds: aws_secret_access_key = Zb3YqK9mT2vLx8Rw4PnJ6sHc1FdGe7Ua5Wk0Qo2T in the env dump.',
    secret: 'Zb3YqK9mT2vLx8Rw4PnJ6sHc1FdGe7Ua5Wk0Qo2T',
  },
  {
    detector: 'prefixed_token',
    text: 'Publish with npm_Xy7Qa9Lm2Nb4Vc6Zx8Kj1Hg3Fd5Sa0Pq7Wr9T and hope.',
    secret: 'npm_Xy7Qa9Lm2Nb4Vc6Zx8Kj1Hg3Fd5Sa0Pq7Wr9T',
  },
  {
    detector: 'prefixed_token',
    text: 'Stripe webhook whsec_Q2h9Lr5Tz8Wm3Kp6Vn1Bx4Cy7 verified; GitLab glpat-Ab3Cd5Ef7Gh9Ij1Kl3Mn.',
    secret: 'whsec_Q2h9Lr5Tz8Wm3Kp6Vn1Bx4Cy7',
  },
  {
    detector: 'slack_webhook',
    text: 'Post alerts to https://hooks.slack.com/services/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 now.',
    secret: 'T024BE7LD/B0AB8CK5N/k2Gm7Qz9Xr4Tp1Wn6Ls3Vb8Y',
  },
  {
    detector: 'slack_webhook',
    text: 'Workflow hook https://hooks.slack.com/workflows/T024BE7LD/A05KZ/468/Qz9Xr4Tp1Wn6',
    secret: 'T024BE7LD/A05KZ/468/Qz9Xr4Tp1Wn6',
  },
  {
    detector: 'cli_secret',
    text: 'ran: deploy --api-token tk9Qz2Lr7Xw4 --region eu-west-1',
    secret: 'tk9Qz2Lr7Xw4',
  },
  {
    detector: 'cli_secret',
    text: 'curl -u admin:Tr0ub4dor https://internal/api and mysql -pS3cretPw shop',
    secret: 'Tr0ub4dor',
  },
  {
    detector: 'secret_prose',
    text: 'For the record, the password is Winter2026! and nobody else knows.',
    secret: 'Winter2026!',
  },
  {
    detector: 'secret_prose',
    text: 'Your one-time code: 834-221 expires soon; my pin is 4821-9',
    secret: '4821-9',
  },
  {
    detector: 'high_entropy',
    text: 'secret access key Zb3YqK9mT2vLx8Rw4PnJ6sHc1FdGe7Ua5Wk0Qo2T leaked',
    secret: 'Zb3YqK9mT2vLx8Rw4PnJ6sHc1FdGe7Ua5Wk0Qo2T',
  },
  {
    detector: 'high_entropy',
    text: 'token=none; opaque key 9fK2mQ7xL4pZ8vR1tW6yB3nC5hJ0gD2sA7eU',
    secret: '9fK2mQ7xL4pZ8vR1tW6yB3nC5hJ0gD2sA7eU',
  },
  {
    detector: 'secret_assignment',
    text: 'retrying with password=hunter2-Secret! after timeout',
    secret: 'hunter2-Secret!',
  },
  {
    detector: 'secret_assignment',
    text: 'tool args (truncated): {"api_key": "abc123xyz", "city": "Par',
    secret: 'abc123xyz',
  },
  {
    detector: 'secret_assignment',
    text: 'export DB_PASSWORD=Pa55w0rd; Authorization: Token 9c1e4b7d6a3f',
    secret: 'Pa55w0rd',
  },
];

/** Ordinary strings that look a little like secrets and must come out byte-for-byte. */
const ORDINARY_CORPUS = [
  '550e8400-e29b-41d4-a716-446655440000',
  'trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7',
  '2026-11-27T09:27:09.123Z',
  'Deployed v1.2.3 on node 20.20.2 (npm 10.8.2).',
  'sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  'Order ORD-2024-000123 ships 2026-11-27.',
  'Total $1,299.99 incl. VAT, Invoice #48213.',
  'The meeting moved to 12:30 on 27.11.2026; bring 3 copies of page 42.',
  'Batch 123456 processed 98765 rows in 1532 ms at 1732700829123.',
  'gen_ai.usage.input_tokens=1200 max_tokens: 4096 tokens used',
  'The assistant summarised the quarterly report and suggested three follow-up actions.',
  'Bearer bonds and basic information are discussed in chapter 7.',
  'ISBN 978-3-16-148410-0, room 4-112, call extension 4412.',
  'The ratio 3:2:1 and the time 23:59:59 are not addresses.',
  'std::vector<int> and a::b are C++ not IPv6.',
  'Use Promise.all([a, b]) and map.get(key) — nothing secret here.',
  'Version 2.14.0-rc.1+build.5 released.',
  'Temperature 21.5°C, humidity 40%, wind 12 km/h.',
];

/** Names of secrets the corpus holds for each detector; every built-in needs two. */
function corpusCount(detector: string): number {
  return SECRET_CORPUS.filter((entry) => entry.detector === detector).length;
}

// Generators of secrets and personal data: valid card numbers (Luhn), IBANs (mod 97), keys, JWTs…

const DIGITS = '0123456789'.split('');
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split('');
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.split('');
const LOWER = 'abcdefghijklmnopqrstuvwxyz'.split('');

const chars = (alphabet: string[], minLength: number, maxLength: number) =>
  fc.array(fc.constantFrom(...alphabet), { minLength, maxLength }).map((list) => list.join(''));

function luhnCheckDigit(payload: string): string {
  let sum = 0;
  for (let index = 0; index < payload.length; index++) {
    let digit = Number(payload[payload.length - 1 - index]);
    if (index % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

function groupDigits(digits: string, separator: string, sizes: number[]): string {
  const groups: string[] = [];
  let offset = 0;
  for (const size of sizes) {
    if (offset >= digits.length) break;
    groups.push(digits.slice(offset, offset + size));
    offset += size;
  }
  if (offset < digits.length) groups.push(digits.slice(offset));
  return groups.join(separator);
}

/** Visa, Mastercard and Amex numbers with a valid Luhn digit, plain or grouped by spaces/dashes. */
const cardNumber = fc
  .tuple(
    fc.constantFrom(
      { prefix: '4', length: 16 },
      { prefix: '51', length: 16 },
      { prefix: '55', length: 16 },
      { prefix: '2221', length: 16 },
      { prefix: '34', length: 15 },
      { prefix: '37', length: 15 },
    ),
    chars(DIGITS, 18, 18),
    fc.constantFrom('', ' ', '-'),
  )
  .map(([brand, random, separator]) => {
    const payload = (brand.prefix + random).slice(0, brand.length - 1);
    const digits = payload + luhnCheckDigit(payload);
    const sizes = brand.length === 15 ? [4, 6, 5] : [4, 4, 4, 4];
    return separator === '' ? digits : groupDigits(digits, separator, sizes);
  });

function ibanCheckDigits(country: string, bban: string): string {
  const rearranged = `${bban}${country}00`;
  let remainder = 0;
  for (const char of rearranged) {
    const value = /\d/.test(char) ? Number(char) : char.charCodeAt(0) - 55;
    remainder = (remainder * (value > 9 ? 100 : 10) + value) % 97;
  }
  return String(98 - remainder).padStart(2, '0');
}

/** German (18 digits) and British (4 letters + 14 digits) IBANs, compact or in groups of four. */
const iban = fc
  .tuple(
    fc.oneof(
      chars(DIGITS, 18, 18).map((bban) => ['DE', bban] as const),
      fc
        .tuple(chars(LOWER, 4, 4), chars(DIGITS, 14, 14))
        .map(([bank, account]) => ['GB', bank.toUpperCase() + account] as const),
    ),
    fc.boolean(),
  )
  .map(([[country, bban], spaced]) => {
    const compact = country + ibanCheckDigits(country, bban) + bban;
    return spaced ? (compact.match(/.{1,4}/g) ?? []).join(' ') : compact;
  });

const email = fc
  .tuple(
    chars(LOWER, 1, 1),
    chars([...LOWER, ...DIGITS, '.', '_', '+'], 0, 15),
    chars(LOWER, 1, 12),
    fc.constantFrom('com', 'org', 'io', 'co.uk', 'example'),
  )
  .map(([first, rest, domain, tld]) => `${first}${rest.replace(/\.+$/, '')}@${domain}.${tld}`);

const openaiKey = fc
  .tuple(fc.constantFrom('sk-', 'sk-proj-', 'sk-svcacct-'), chars(ALNUM, 24, 64))
  .map(([prefix, body]) => prefix + body);

const anthropicKey = chars([...ALNUM, '-', '_'], 40, 90).map((body) => `sk-ant-api03-${body}`);

const awsAccessKeyId = fc
  .tuple(fc.constantFrom('AKIA', 'ASIA'), chars(UPPER_ALNUM, 16, 16))
  .map(([prefix, body]) => prefix + body);

const githubToken = fc
  .tuple(fc.constantFrom('ghp_', 'gho_', 'ghs_', 'ghu_'), chars(ALNUM, 36, 36))
  .map(([prefix, body]) => prefix + body);

const base64url = (text: string) => Buffer.from(text).toString('base64url');

const jwt = fc
  .tuple(fc.constantFrom('HS256', 'RS256'), fc.uuid(), email, chars([...ALNUM, '-', '_'], 20, 86))
  .map(
    ([alg, subject, mail, signature]) =>
      `${base64url(JSON.stringify({ alg, typ: 'JWT' }))}.${base64url(JSON.stringify({ sub: subject, email: mail }))}.${signature}`,
  );

const phoneNumber = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 2, max: 9 }),
      chars(DIGITS, 2, 2),
      fc.integer({ min: 2, max: 9 }),
      chars(DIGITS, 6, 6),
    )
    .chain(([area, areaRest, exchange, rest]) => {
      const a = `${area}${areaRest}`;
      const e = `${exchange}${rest.slice(0, 2)}`;
      const line = rest.slice(2);
      return fc.constantFrom(
        `+1 (${a}) ${e}-${line}`,
        `(${a}) ${e}-${line}`,
        `${a}-${e}-${line}`,
        `+1 ${a} ${e} ${line}`,
      );
    }),
  chars(DIGITS, 8, 8).map((digits) => `+44 20 ${digits.slice(0, 4)} ${digits.slice(4)}`),
  chars(DIGITS, 8, 8).map((digits) => `020 ${digits.slice(0, 4)} ${digits.slice(4)}`),
);

const ssn = fc
  .tuple(
    fc.integer({ min: 1, max: 899 }).filter((area) => area !== 666),
    fc.integer({ min: 1, max: 99 }),
    fc.integer({ min: 1, max: 9999 }),
  )
  .map(
    ([area, group, serial]) =>
      `${String(area).padStart(3, '0')}-${String(group).padStart(2, '0')}-${String(serial).padStart(4, '0')}`,
  );

const ipv4 = fc
  .tuple(
    fc.integer({ min: 1, max: 255 }).filter((first) => first !== 127),
    fc.nat(255),
    fc.nat(255),
    fc.integer({ min: 1, max: 255 }),
  )
  .map((octets) => octets.join('.'))
  // Loopback and documentation ranges identify nobody and are kept.
  .filter((address) => !/^(?:192\.0\.2|198\.51\.100|203\.0\.113)\./.test(address));

/** A global address in 2001::/16, never in 2001:db8::/32, which documentation uses and keeps. */
const ipv6 = fc
  .tuple(
    fc.integer({ min: 0, max: 0xffff }).filter((group) => group !== 0xdb8),
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 6, maxLength: 6 }),
  )
  .map(([second, rest]) =>
    ['2001', ...[second, ...rest].map((group) => group.toString(16))].join(':'),
  );

/** Any planted secret or personal value. */
const plantedSecret = fc.oneof(
  cardNumber,
  iban,
  email,
  openaiKey,
  anthropicKey,
  awsAccessKeyId,
  githubToken,
  jwt,
  phoneNumber,
  ssn,
  ipv4,
  ipv6,
);

/** Secret-looking values stored under sensitive keys. */
const sensitiveKey = fc.constantFrom(
  'password',
  'api_key',
  'apiKey',
  'Authorization',
  'client_secret',
  'refresh_token',
  'X-Auth-Token',
  'dbPassword',
  'openai_api_key',
  'set-cookie',
  'private_key',
  'card_cvv',
);

const opaqueSecret = chars(ALNUM, 12, 32).map((body) => `opaque-${body}`);

/**
 * Puts each planted value somewhere in `base`: as a new value, inside an existing string (free
 * text), or under a sensitive key. `positions` picks the container or string deterministically.
 */
type Plant = { secret: string; where: 'value' | 'text' | 'key'; position: number; key: string };

const plant = fc.record({
  secret: fc.oneof(plantedSecret, opaqueSecret),
  where: fc.constantFrom('value', 'text', 'key'),
  position: fc.nat(),
  key: sensitiveKey,
}) as fc.Arbitrary<Plant>;

function plantSecrets(base: unknown, plants: Plant[]): JsonValue {
  const root = { base } as JsonValue;
  const containers: Array<JsonValue[] | { [key: string]: JsonValue }> = [];
  const collect = (value: JsonValue) => {
    if (value === null || typeof value !== 'object') return;
    containers.push(value);
    for (const child of Array.isArray(value) ? value : Object.values(value)) collect(child);
  };
  collect(root);
  plants.forEach((planted, index) => {
    const container = containers[planted.position % containers.length] as
      | JsonValue[]
      | { [key: string]: JsonValue };
    const value =
      planted.where === 'text'
        ? `Customer wrote: ${planted.secret} — please check.`
        : planted.secret;
    if (planted.where === 'key') {
      const holder = { [planted.key]: value };
      if (Array.isArray(container)) container.push(holder);
      else
        Object.defineProperty(container, `planted_${index}`, { value: holder, enumerable: true });
    } else if (Array.isArray(container)) {
      container.push(value);
    } else {
      Object.defineProperty(container, `field_${index}`, { value, enumerable: true });
    }
  });
  return root;
}

/** Planted values that must not survive: opaque ones only under sensitive keys. */
function mustNotAppear(plants: Plant[]): string[] {
  return plants
    .filter((planted) => planted.where === 'key' || !planted.secret.startsWith('opaque-'))
    .map((planted) => planted.secret);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** A `\u0000` escape in JSON text (not an escaped backslash followed by `u0000`): jsonb rejects it. */
const NUL_ESCAPE = /(?<!\\)(?:\\\\)*\\u0000/;

describe('redactText: secrets and personal data in free text', () => {
  it.each(SECRET_CORPUS)('$detector is redacted in: $text', ({ detector, text, secret }) => {
    const redacted = createRedactor().redactText(text);

    expect(redacted).not.toContain(secret);
    expect(redacted).toContain(`[REDACTED:${detector}]`);
  });

  it('has at least two corpus sentences for every built-in detector', () => {
    const underCovered = BUILT_IN_DETECTORS.filter((name) => corpusCount(name) < 2);

    expect(underCovered).toEqual([]);
  });

  it('keeps the scheme and host of a URL whose credentials it masks', () => {
    const redacted = createRedactor().redactText('postgres://admin:s3cr3t@db.internal:5432/app');

    expect(redacted).toBe('postgres://[REDACTED:url_credentials]@db.internal:5432/app');
  });

  it('keeps the key and quotes of a JSON fragment whose secret it masks', () => {
    const redacted = createRedactor().redactText('{"api_key": "abc123", "city": "Paris"}');

    expect(redacted).toBe('{"api_key": "[REDACTED:secret_assignment]", "city": "Paris"}');
  });

  it('does not flag SSNs from never-issued areas 000, 666 and 9xx', () => {
    const text = 'ids 000-12-3456, 666-12-3456 and 912-34-5678';

    expect(createRedactor().redactText(text)).toBe(text);
  });

  it('does not flag card-like numbers that fail the Luhn check', () => {
    const text = 'ref 4111 1111 1111 1112 and 1234 5678 9012 3456';

    expect(createRedactor().redactText(text)).toBe(text);
  });

  it('does not flag IBAN-shaped strings that fail mod 97', () => {
    const text = 'code GB82 WEST 1234 5698 7654 33';

    expect(createRedactor().redactText(text)).toBe(text);
  });

  it('treats four-part dotted numbers as IPv4 addresses unless prefixed with v', () => {
    const redactor = createRedactor();

    expect(redactor.redactText('release 1.2.3.4')).toBe('release [REDACTED:ipv4]');
    expect(redactor.redactText('release v1.2.3.4')).toBe('release v1.2.3.4');
    expect(redactor.redactText('OID 1.3.6.1.4.1')).toBe('OID 1.3.6.1.4.1');
  });

  it('removes NUL characters and replaces lone surrogates', () => {
    const redacted = createRedactor().redactText('a\u0000b\uD800c\uDC00d 😀');

    expect(redacted).toBe('ab\uFFFDc\uFFFDd 😀');
  });

  it('cuts text longer than maxStringLength and says how much was cut', () => {
    const redactor = createRedactor({ limits: { maxStringLength: 100 } });

    const redacted = redactor.redactText('x'.repeat(120_000));

    expect(redacted.length).toBeLessThanOrEqual(100);
    expect(redacted).toMatch(/^x+…\[truncated \d+ chars\]$/);
    const kept = redacted.indexOf('…');
    expect(Number(/(\d+) chars/.exec(redacted)?.[1]) + kept).toBe(120_000);
  });

  it('masks a secret that straddles the maxStringLength cut', () => {
    const redactor = createRedactor({ limits: { maxStringLength: 64 } });
    const key = 'sk-proj-FAKEabcdefghijklmnopqrstuvwxyz0123456789';

    const redacted = redactor.redactText(`${'word '.repeat(10)}${key} and more text after it`);

    expect(redacted).not.toContain('sk-proj-FAKE');
    expect(redacted).not.toContain('abcdefghij');
  });

  it('marks text cut beyond the scan window even when redaction made the rest short', () => {
    const redactor = createRedactor({ limits: { maxStringLength: 100 } });
    const pem = `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(20_000)}\n-----END PRIVATE KEY-----`;

    const redacted = redactor.redactText(pem);

    expect(redacted).toMatch(/^\[REDACTED:private_key\]…\[truncated \d+ chars\]$/);
  });

  it('gives the same output when text is redacted twice', () => {
    const redactor = createRedactor({ limits: { maxStringLength: 200 } });
    const once = redactor.redactText(`${SECRET_CORPUS.map((entry) => entry.text).join(' ')}`);

    expect(redactor.redactText(once)).toBe(once);
  });

  it('finishes hostile 100k-character inputs (no catastrophic backtracking)', () => {
    const redactor = createRedactor({ limits: { maxStringLength: 200_000 } });
    const hostile = [
      'a@a.'.repeat(25_000),
      '1'.repeat(100_000),
      '+1 '.repeat(33_000),
      '1 '.repeat(50_000),
      '4-'.repeat(50_000),
      'a:'.repeat(50_000),
      'ffff:'.repeat(20_000),
      'eyJ'.repeat(33_000),
      '-----BEGIN PRIVATE KEY-----'.repeat(4_000),
      'a://'.repeat(25_000),
      `http://${'x@'.repeat(50_000)}`,
      'password='.repeat(11_000),
      'Basic '.repeat(16_000),
      'DE89 '.repeat(20_000),
      '000 '.repeat(25_000),
      `x@${'a.'.repeat(50_000)}`,
    ];

    for (const text of hostile) {
      expect(typeof redactor.redactText(text)).toBe('string');
    }
    expect(redactor.redactText('1'.repeat(100_000))).toBe('1'.repeat(100_000));
    expect(redactor.stats.failures).toBe(0);
  });
});

describe('ordinary text survives byte-for-byte', () => {
  it.each(ORDINARY_CORPUS)('redactText keeps: %s', (text) => {
    expect(createRedactor().redactText(text)).toBe(text);
  });

  it('redactValue keeps ordinary values, keys and numbers', () => {
    const value = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      occurredAt: '2026-11-27T09:27:09.123Z',
      gen_ai: { usage: { input_tokens: 1200, output_tokens: 87 }, request: { max_tokens: 4096 } },
      token_count: 3,
      tokens: ['a', 'b'],
      keyboard: 'qwerty',
      monkey: 'business',
      sessions_count: 12,
      startedAtMs: 1732700829123,
      notes: ORDINARY_CORPUS,
    };

    expect(createRedactor().redactValue(value)).toEqual(value);
  });

  it('redactAttributes keeps ordinary attributes', () => {
    const attributes = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.conversation.id': '550e8400-e29b-41d4-a716-446655440000',
      'audit.rate_limit.key': 'tenant-42:chat',
      'audit.outcome': 'success',
      'http.response.status_code': 200,
      retried: false,
      tags: ['v1.2.3', 'ORD-2024-000123'],
    };

    expect(createRedactor().redactAttributes(attributes)).toEqual(attributes);
  });

  it('keeps generated UUIDs, trace ids, span ids, timestamps, versions and digests', () => {
    const redactor = createRedactor();
    const ordinary = fc.oneof(
      fc.uuid(),
      fc.stringMatching(/^[0-9a-f]{32}$/),
      // An all-decimal span id with a card prefix and a valid Luhn digit is a card number.
      fc.stringMatching(/^[0-9a-f]{16}$/).filter((id) => /[a-f]/.test(id)),
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      fc.tuple(fc.nat(99), fc.nat(99), fc.nat(999)).map(([a, b, c]) => `v${a}.${b}.${c}`),
      fc.tuple(fc.nat(99), fc.nat(99), fc.nat(99)).map(([a, b, c]) => `node ${a}.${b}.${c}`),
      fc.stringMatching(/^[0-9a-f]{64}$/),
      fc.nat(999_999).map((n) => `ORD-2024-${String(n).padStart(6, '0')}`),
      fc
        .nat(9_999_999)
        .map((cents) => `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })}`),
      fc.nat(99_999).map((n) => `Invoice #${n}`),
    );

    fc.assert(
      fc.property(ordinary, (text) => {
        expect(redactor.redactText(text)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});

describe('key rules', () => {
  it('replaces the whole value under a sensitive key, whatever its type', () => {
    const redacted = createRedactor().redactValue({
      password: 'hunter2',
      apiKey: { nested: 'x' },
      credentials: ['a', 'b'],
      pin: 1234,
    });

    expect(redacted).toEqual({
      password: '[REDACTED:password]',
      apiKey: '[REDACTED:api_key]',
      credentials: '[REDACTED:credentials]',
      pin: '[REDACTED:pin]',
    });
  });

  it.each([
    ['openai_api_key', 'api_key'],
    ['dbPassword', 'password'],
    ['X-Auth-Token', 'auth_token'],
    ['http.request.header.authorization', 'authorization'],
    ['Proxy-Authorization', 'proxy_authorization'],
    ['x-api-key', 'api_key'],
    ['API_KEY', 'api_key'],
    ['Set-Cookie', 'set_cookie'],
    ['session id', 'session_id'],
    ['refresh_token', 'refresh_token'],
    ['client_secret', 'client_secret'],
    ['private-key', 'private_key'],
    ['card_number', 'card_number'],
    ['creditCard', 'credit_card'],
    ['cvv', 'cvv'],
    ['ssn', 'ssn'],
    ['passwd', 'password'],
  ])('matches %s case- and separator-insensitively as rule %s', (key, rule) => {
    expect(createRedactor().redactValue({ [key]: 'value' })).toEqual({
      [key]: `[REDACTED:${rule}]`,
    });
  });

  it.each([
    'tokens',
    'token_count',
    'input_tokens',
    'max_tokens',
    'gen_ai.usage.input_tokens',
    'keyboard',
    'monkey',
    'sessions_count',
    'secretary',
    'shipping',
    'author',
    'audit.rate_limit.key',
    'constructor',
  ])('leaves the ordinary key %s alone', (key) => {
    expect(createRedactor().redactValue({ [key]: 'value' })).toEqual({ [key]: 'value' });
  });

  it('applies key rules at every depth', () => {
    const redacted = createRedactor().redactValue({ a: [{ b: { c: { secret: 'deep' } } }] });

    expect(JSON.stringify(redacted)).not.toContain('deep');
  });

  it('adds user keys as strings and RegExps', () => {
    const redactor = createRedactor({ keys: ['customer_note', /^internal\./] });

    expect(
      redactor.redactValue({
        customerNote: 'x',
        'billing.customer-note': 'y',
        'internal.flag': true,
        note: 'z',
      }),
    ).toEqual({
      customerNote: '[REDACTED:customer_note]',
      'billing.customer-note': '[REDACTED:customer_note]',
      'internal.flag': '[REDACTED:custom_key]',
      note: 'z',
    });
  });

  it('leaves allowKeys to the value detectors only', () => {
    const redactor = createRedactor({ allowKeys: ['session_id'] });

    expect(redactor.redactValue({ sessionId: 'abc', token: 'def' })).toEqual({
      sessionId: 'abc',
      token: '[REDACTED:token]',
    });
    expect(redactor.redactValue({ sessionId: 'mail bob@example.com' })).toEqual({
      sessionId: 'mail [REDACTED:email]',
    });
  });

  it('redacts keys that are themselves personal data (an email used as a key)', () => {
    const redacted = createRedactor().redactValue({ 'alice@example.com': 3, 'bob@example.com': 4 });

    expect(redacted).toEqual({ '[REDACTED:email]': 3, '[REDACTED:email]#2': 4 });
  });
});

describe('replacement modes', () => {
  it('masks by default', () => {
    expect(createRedactor().redactText('to bob@example.com')).toBe('to [REDACTED:email]');
  });

  it('writes an 8-hex HMAC tag in hash mode', () => {
    const redactor = createRedactor({ modes: { email: 'hash' }, hashKey: 'test-key' });

    expect(redactor.redactText('to bob@example.com')).toMatch(/^to \[email:[0-9a-f]{8}\]$/);
  });

  it('removes the value in remove mode', () => {
    const redactor = createRedactor({ modes: { '*': 'remove' } });

    expect(redactor.redactText('to <bob@example.com> from 10.0.0.1')).toBe('to <> from ');
  });

  it('lets a per-detector mode override the * default', () => {
    const redactor = createRedactor({ modes: { '*': 'remove', email: 'mask' } });

    expect(redactor.redactText('bob@example.com 10.0.0.1')).toBe('[REDACTED:email] ');
  });

  it('gives the same tag for the same value within one redactor (property)', () => {
    const redactor = createRedactor({ modes: { '*': 'hash' } });

    fc.assert(
      fc.property(email, (address) => {
        const first = redactor.redactText(`from ${address}`);
        expect(first).toMatch(/^from \[email:[0-9a-f]{8}\]$/);
        expect(redactor.redactText(`again ${address}!`)).toBe(`again ${first.slice(5)}!`);
      }),
    );
  });

  it('gives different tags under different keys (property)', () => {
    const first = createRedactor({ modes: { '*': 'hash' }, hashKey: 'key-one' });
    const second = createRedactor({ modes: { '*': 'hash' }, hashKey: 'key-two' });
    const tags = new Set<string>();

    fc.assert(
      fc.property(email, (address) => {
        tags.clear();
        tags.add(first.redactText(address));
        tags.add(second.redactText(address));
        expect(tags.size).toBe(2);
      }),
    );
  });

  describe('with AITRAIL_REDACTION_KEY set', () => {
    const previous = process.env.AITRAIL_REDACTION_KEY;
    afterEach(() => {
      if (previous === undefined) delete process.env.AITRAIL_REDACTION_KEY;
      else process.env.AITRAIL_REDACTION_KEY = previous;
    });

    it('uses it as the hash key when the policy has none', () => {
      process.env.AITRAIL_REDACTION_KEY = 'from-env';
      const fromEnv = createRedactor({ modes: { '*': 'hash' } });
      const explicit = createRedactor({ modes: { '*': 'hash' }, hashKey: 'from-env' });

      expect(fromEnv.redactText('bob@example.com')).toBe(explicit.redactText('bob@example.com'));
    });
  });
});

describe('policy validation', () => {
  it('rejects an unknown policy option, naming it', () => {
    expect(() => createRedactor({ detector: [] } as never)).toThrow(TypeError);
    expect(() => createRedactor({ detector: [] } as never)).toThrow(/detector/);
  });

  it('rejects a detector pattern without the g flag, naming the option', () => {
    const detectors = [{ name: 'employee_id', pattern: /EMP-\d{6}/ }];

    expect(() => createRedactor({ detectors })).toThrow(TypeError);
    expect(() => createRedactor({ detectors })).toThrow(/detectors\[0\]\.pattern/);
  });

  it('rejects an unknown replacement mode, naming the option', () => {
    expect(() => createRedactor({ modes: { email: 'scramble' as never } })).toThrow(/modes\.email/);
  });

  it('rejects modes and disable entries naming no detector', () => {
    expect(() => createRedactor({ modes: { emial: 'hash' } })).toThrow(/modes\.emial/);
    expect(() => createRedactor({ disable: ['emial'] })).toThrow(/disable/);
  });

  it('rejects invalid limits, naming the limit', () => {
    expect(() => createRedactor({ limits: { maxDepth: 0 } })).toThrow(/limits\.maxDepth/);
    expect(() => createRedactor({ limits: { maxDepht: 3 } as never })).toThrow(/maxDepht/);
  });

  it('rejects an unknown option on a user detector', () => {
    const detectors = [{ name: 'x', pattern: /x/g, validator: () => true }] as never;

    expect(() => createRedactor({ detectors })).toThrow(/validator/);
  });
});

describe('user detectors', () => {
  const employeeId: ValueDetector = { name: 'employee_id', pattern: /\bEMP-\d{6}\b/g };

  it('adds a detector that runs after the built-ins', () => {
    const redactor = createRedactor({ detectors: [employeeId] });

    expect(redactor.redactText('EMP-123456 mailed bob@example.com')).toBe(
      '[REDACTED:employee_id] mailed [REDACTED:email]',
    );
  });

  it('overrides the built-in detector of the same name', () => {
    const corporateOnly: ValueDetector = { name: 'email', pattern: /[\w.]+@corp\.example\.com/g };
    const redactor = createRedactor({ detectors: [corporateOnly] });

    expect(redactor.redactText('bob@corp.example.com cc alice@gmail.com')).toBe(
      '[REDACTED:email] cc alice@gmail.com',
    );
  });

  it('keeps a candidate its validate rejects', () => {
    const evenOnly: ValueDetector = {
      name: 'even_ticket',
      pattern: /T-\d+/g,
      validate: (match) => Number(match.slice(2)) % 2 === 0,
    };
    const redactor = createRedactor({ detectors: [evenOnly] });

    expect(redactor.redactText('T-2 and T-3')).toBe('[REDACTED:even_ticket] and T-3');
  });

  it('switches built-ins off with disable', () => {
    const redactor = createRedactor({ disable: ['email', 'ipv4'] });

    expect(redactor.redactText('bob@example.com 10.0.0.1 sk-FAKE1234567890abcdefghijkl')).toBe(
      'bob@example.com 10.0.0.1 [REDACTED:openai_api_key]',
    );
  });

  it('lists personal-data detectors that a secrets-only redactor can disable', () => {
    const secretsOnly = createRedactor({ disable: [...PERSONAL_DATA_DETECTORS] });

    expect(secretsOnly.redactText('bob@example.com with card 4111 1111 1111 1111')).toBe(
      'bob@example.com with card [REDACTED:payment_card]',
    );
  });
});

describe('failing closed', () => {
  const throwing: ValueDetector = {
    name: 'fragile',
    pattern: /secret-\w+/g,
    validate: () => {
      throw new Error('validator bug');
    },
  };

  it('replaces text whose redaction throws with [REDACTION_FAILED] and counts it', () => {
    const redactor = createRedactor({ detectors: [throwing] });

    expect(redactor.redactText('the secret-abc value')).toBe(REDACTION_FAILED);
    expect(redactor.stats.failures).toBe(1);
  });

  it('replaces only the failing value inside a structure', () => {
    const redactor = createRedactor({ detectors: [throwing] });

    expect(redactor.redactValue({ note: 'secret-abc', city: 'Paris' })).toEqual({
      note: REDACTION_FAILED,
      city: 'Paris',
    });
    expect(redactor.stats.failures).toBe(1);
  });

  it('replaces only the failing attribute and never throws', () => {
    const redactor = createRedactor({ detectors: [throwing] });

    expect(
      redactor.redactAttributes({ note: 'secret-abc', list: ['secret-x', 'ok'], n: 1 }),
    ).toEqual({
      note: REDACTION_FAILED,
      list: [REDACTION_FAILED, 'ok'],
      n: 1,
    });
    expect(redactor.stats.failures).toBe(2);
  });
});

describe('redactAttributes', () => {
  it('returns a new object and leaves the input untouched', () => {
    const attributes = { note: 'mail bob@example.com', password: 'x' };
    const snapshot = structuredClone(attributes);

    const redacted = createRedactor().redactAttributes(attributes);

    expect(redacted).not.toBe(attributes);
    expect(attributes).toEqual(snapshot);
    expect(redacted).toEqual({ note: 'mail [REDACTED:email]', password: '[REDACTED:password]' });
  });

  it('redacts a JSON string attribute structurally and re-serializes it', () => {
    const redacted = createRedactor().redactAttributes({
      'gen_ai.tool.call.arguments': '{"api_key":"abc123","city":"Paris","to":"bob@example.com"}',
    });

    expect(JSON.parse(redacted['gen_ai.tool.call.arguments'] as string)).toEqual({
      api_key: '[REDACTED:api_key]',
      city: 'Paris',
      to: '[REDACTED:email]',
    });
  });

  it('redacts string array items and masks arrays under sensitive keys', () => {
    const redacted = createRedactor().redactAttributes({
      recipients: ['bob@example.com', 'team'],
      'http.request.header.authorization': ['Bearer abc'],
      scores: [1, 2],
    });

    expect(redacted).toEqual({
      recipients: ['[REDACTED:email]', 'team'],
      'http.request.header.authorization': '[REDACTED:authorization]',
      scores: [1, 2],
    });
  });

  it('masks card numbers stored as numbers but keeps epoch milliseconds', () => {
    const redacted = createRedactor().redactAttributes({
      card: 4111111111111111,
      at: 1732700829123,
    });

    expect(redacted).toEqual({ card: '[REDACTED:payment_card]', at: 1732700829123 });
  });
});

describe('shared pieces', () => {
  it('getDefaultRedactor returns one shared instance', () => {
    expect(getDefaultRedactor()).toBe(getDefaultRedactor());
  });

  it('BUILT_IN_DETECTORS names every built-in detector', () => {
    expect([...BUILT_IN_DETECTORS].sort()).toEqual(
      [
        'anthropic_api_key',
        'aws_access_key_id',
        'basic_auth',
        'bearer_token',
        'email',
        'github_token',
        'google_api_key',
        'iban',
        'ipv4',
        'ipv6',
        'jwt',
        'openai_api_key',
        'payment_card',
        'phone',
        'private_key',
        'secret_assignment',
        'slack_token',
        'slack_webhook',
        'prefixed_token',
        'provider_token',
        'cli_secret',
        'secret_prose',
        'high_entropy',
        'ssn',
        'stripe_key',
        'url_credentials',
      ].sort(),
    );
  });
});

describe('properties: planted secrets never come out', () => {
  it('redactValue removes secrets planted in values, free text and under sensitive keys', () => {
    const redactor = createRedactor();

    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.array(plant, { minLength: 1, maxLength: 6 }),
        (base, plants) => {
          const serialized = JSON.stringify(redactor.redactValue(plantSecrets(base, plants)));
          for (const secret of mustNotAppear(plants)) expect(serialized).not.toContain(secret);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('redactText removes secrets planted between arbitrary text', () => {
    const redactor = createRedactor();

    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string(), plantedSecret), { minLength: 1, maxLength: 5 }),
        (parts) => {
          const text = parts.map(([prose, secret]) => `${prose} ${secret} `).join('');
          const redacted = redactor.redactText(text);
          for (const [, secret] of parts) expect(redacted).not.toContain(secret);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('redactAttributes removes secrets from string values, arrays and JSON strings', () => {
    const redactor = createRedactor();

    fc.assert(
      fc.property(plantedSecret, plantedSecret, fc.jsonValue(), (first, second, base) => {
        const redacted = redactor.redactAttributes({
          note: `see ${first}`,
          list: ['ok', second],
          'gen_ai.tool.call.arguments': JSON.stringify({
            base,
            args: { to: first, password: second },
          }),
        });
        const serialized = JSON.stringify(redacted);
        expect(serialized).not.toContain(first);
        expect(serialized).not.toContain(second);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws and always returns storable JSON for arbitrary values', () => {
    const redactor = createRedactor();

    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withSparseArray: true,
          withNullPrototype: true,
          withBoxedValues: true,
          withObjectString: true,
        }),
        (value) => {
          const serialized = JSON.stringify(redactor.redactValue(value));
          expect(typeof serialized).toBe('string');
          expect(NUL_ESCAPE.test(serialized)).toBe(false);
          expect(LONE_SURROGATE.test(serialized)).toBe(false);
          expect(JSON.stringify(JSON.parse(serialized))).toBe(serialized);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps arbitrary unicode text storable', () => {
    const redactor = createRedactor();

    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'grapheme' }),
        (binary, grapheme) => {
          for (const text of [binary, grapheme, `${binary}\u0000${grapheme}`]) {
            const redacted = redactor.redactText(text);
            expect(redacted).not.toContain('\u0000');
            expect(LONE_SURROGATE.test(redacted)).toBe(false);
          }
        },
      ),
    );
  });
});

describe('key names across spellings', () => {
  const redactor = createRedactor();
  const secretKeys = [
    'passcode',
    'pw',
    'bearer',
    'jwt',
    'dsn',
    'database_url',
    'DATABASE_URL',
    'databaseUrl',
    'PHPSESSID',
    'connect.sid',
    'securityCode',
    'security-code',
    'account_number',
    'accountNumber',
    'X-Api-Key',
    'stripe_webhook_secret',
    'db.password',
    'userPassword',
    'client-secret',
    'recovery_codes',
  ];
  for (const key of secretKeys) {
    it(`masks the string value under ${key}`, () => {
      const output = redactor.redactValue({ [key]: 'v4lue-Xq9' }) as Record<string, unknown>;
      expect(output[key]).toMatch(/^\[REDACTED:[\w.-]+\]$/);
    });
  }

  it('keeps booleans and counts under secret-like keys', () => {
    expect(redactor.redactValue({ has_token: true, token_count: 3, password: false })).toEqual({
      has_token: true,
      token_count: 3,
      password: false,
    });
  });

  it('masks numbers under keys that name numeric secrets', () => {
    expect(redactor.redactValue({ pin: 4821, cvv: 123, securityCode: 998 })).toEqual({
      pin: '[REDACTED:pin]',
      cvv: '[REDACTED:cvv]',
      securityCode: '[REDACTED:security_code]',
    });
  });

  it('judges names that merely contain a secret word by their value', () => {
    expect(
      redactor.redactValue({
        secret_santa: 'Alice',
        password_policy: 'min 12 chars',
        password_confirmation: 'hunter2!X',
        token_type: 'Bearer',
      }),
    ).toEqual({
      secret_santa: 'Alice',
      password_policy: 'min 12 chars',
      password_confirmation: '[REDACTED:password]',
      token_type: 'Bearer',
    });
  });

  it('applies the same judgement to span attributes', () => {
    expect(
      redactor.redactAttributes({ 'app.has_token': true, 'app.password_policy': 'min 12 chars' }),
    ).toEqual({ 'app.has_token': true, 'app.password_policy': 'min 12 chars' });
  });
});

describe('hidden and encoded secrets', () => {
  const redactor = createRedactor();

  it('finds a key split by a zero-width space', () => {
    const key = `sk-ant-api03-${'\u200b'}Qz9Xr4Tp1Wn6Ls3Vb8Yk2Gm7`;
    expect(redactor.redactText(`key ${key}`)).toBe('key [REDACTED:anthropic_api_key]');
  });

  it('finds a URL-encoded e-mail and keeps the URL shape', () => {
    expect(redactor.redactText('https://shop.test/cb?email=alice%40example.com&step=2')).toBe(
      'https://shop.test/cb?email=[REDACTED:email]&step=2',
    );
  });

  it('masks a base64 run whose decoded text holds a secret', () => {
    const encoded = Buffer.from('login alice@example.com').toString('base64');
    expect(redactor.redactText(`payload ${encoded}`)).toBe('payload [REDACTED:encoded_secret]');
  });

  it('keeps base64 of harmless text', () => {
    const encoded = Buffer.from('hello there, general kenobi').toString('base64');
    expect(redactor.redactText(`payload ${encoded}`)).toBe(`payload ${encoded}`);
  });
});

describe('formats and free text', () => {
  const redactor = createRedactor();
  const cases: Array<[string, string]> = [
    ['card 4111.1111.1111.1111 on file', '4111.1111.1111.1111'],
    ['iban de89370400440532013000 please', 'de89370400440532013000'],
    ['SSN 078051120 on record', '078051120'],
    ['the password is Winter2026!', 'Winter2026!'],
    ['token: q8Zr2Lk9Xw', 'q8Zr2Lk9Xw'],
    ['deploy --password Tr0ub4dor!', 'Tr0ub4dor!'],
    ['deploy --api-token=tk9Qz2Lr7Xw4', 'tk9Qz2Lr7Xw4'],
    ['mysql -p S3cretPw shop', 'S3cretPw'],
    ['curl -u admin:pw123 https://api.test', 'admin:pw123'],
    ['https://hooks.slack.com/services/T0/B0/k2Gm7Qz9Xr4Tp1Wn6Ls3Vb8Y', 'k2Gm7Qz9Xr4Tp1Wn6Ls3Vb8Y'],
    ['hf_Qz9Xr4Tp1Wn6Ls3Vb8Yk2Gm7Hd5Fc0Ja1', 'hf_Qz9Xr4Tp1Wn6Ls3Vb8Yk2Gm7Hd5Fc0Ja1'],
    ['SG.Qz9Xr4Tp1Wn6Ls3Vb8Yk2.Gm7Hd5Fc0Ja1Se3Ru6IvQz9Xr4Tp1Wn6Ls3Vb8Yk2Gm', 'SG.Qz9Xr4Tp1Wn6'],
    ['twilio SK0123456789abcdef0123456789abcdef', 'SK0123456789abcdef0123456789abcdef'],
    ['aws Zb3YqK9mT2vLx8Rw4PnJ6sHc1FdGe7Ua5Wk0Qo2T', 'Zb3YqK9mT2vLx8Rw4PnJ6sHc1FdGe7Ua5Wk0Qo2T'],
  ];
  for (const [text, secret] of cases) {
    it(`removes ${JSON.stringify(secret)} from ${JSON.stringify(text)}`, () => {
      expect(redactor.redactText(text)).not.toContain(secret);
    });
  }

  const benign = [
    'GET http://127.0.0.1:56311/ping',
    'listening on [::1]:4318 and 2001:db8::7',
    'example hosts 192.0.2.10, 198.51.100.7 and 203.0.113.9',
    'order ORD-2024-000123, uuid 3f2a1c0b-1d2e-4f5a-9b8c-7d6e5f4a3b2c',
    'sha1 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12 at 2026-11-27T10:00:00Z',
    'model claude-3-5-sonnet-20241022, version 20.11.1, price $12.99',
    'the token is expired; the password is required',
    'docker run -p 8080:80 nginx',
    '/Users/Alice/Documents/Projects2024/src/main.ts',
  ];
  for (const text of benign) {
    it(`keeps ${JSON.stringify(text)}`, () => {
      expect(redactor.redactText(text)).toBe(text);
    });
  }

  it('keeps server.address and masks only the userinfo of url.full', () => {
    expect(
      redactor.redactAttributes({
        'server.address': '10.20.30.40',
        'url.full': 'https://bob:hunter2@api.test/v1?api_key=q8Zr2Lk9Xw&page=2',
      }),
    ).toEqual({
      'server.address': '10.20.30.40',
      'url.full':
        'https://[REDACTED:url_credentials]@api.test/v1?api_key=[REDACTED:secret_assignment]&page=2',
    });
  });
});

describe('secrets split across adjacent values', () => {
  const redactor = createRedactor();

  it('masks both halves of a key split across two fields of one object', () => {
    expect(
      redactor.redactValue({ prefix: 'sk_live_', rest: '4eC39HqLyjWDarjtT1zdp7dc', note: 'ok' }),
    ).toEqual({
      prefix: '[REDACTED:split_secret]',
      rest: '[REDACTED:split_secret]',
      note: 'ok',
    });
  });

  it('masks both halves of a key split across two array items', () => {
    expect(redactor.redactValue(['AKIAIOSF', 'ODNN7EXAMPLE', 'done'])).toEqual([
      '[REDACTED:split_secret]',
      '[REDACTED:split_secret]',
      'done',
    ]);
  });

  it('keeps adjacent ordinary identifiers', () => {
    const value = { order: 'ORD-2024-000123', sku: 'ABC-123', region: 'eu-west-1' };
    expect(redactor.redactValue(value)).toEqual(value);
  });
});

describe('plain-prose fast path', () => {
  it('still finds Basic credentials made only of letters', () => {
    const credential = Buffer.from('user:pass').toString('base64');
    expect(credential).toMatch(/^[A-Za-z]+$/);
    expect(getDefaultRedactor().redactText(`Authorization Basic ${credential}`)).toBe(
      'Authorization Basic [REDACTED:basic_auth]',
    );
  });

  it('is skipped when a user detector could match plain words', () => {
    const redactor = createRedactor({ detectors: [{ name: 'codename', pattern: /\bOrion\b/g }] });
    expect(redactor.redactText('Project Orion ships soon')).toBe(
      'Project [REDACTED:codename] ships soon',
    );
  });
});
