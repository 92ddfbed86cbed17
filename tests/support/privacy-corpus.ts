import { seededRandom } from '../../bench/fixtures.js';

/** A planted value: the exact text that must not come out, and the text it is planted in. */
export interface Planted {
  kind: string;
  secret: string;
  text: string;
}

type Random = () => number;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

function pick(random: Random, alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

/** Random alphanumerics with at least one upper, lower and digit in each 8 (entropy-like). */
function mixed(random: Random, length: number): string {
  let out = '';
  while (out.length < length)
    out +=
      pick(random, 'ABCDEFGHJKLMNPQRSTUVWXYZ', 1) +
      pick(random, 'abcdefghijkmnpqrstuvwxyz', 1) +
      pick(random, '23456789', 1) +
      pick(random, ALNUM, 5);
  return out.slice(0, length);
}

function digits(random: Random, length: number): string {
  return pick(random, '0123456789', length);
}

function luhnComplete(prefix: string, length: number, random: Random): string {
  let body = prefix + digits(random, length - prefix.length - 1);
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  body += String((10 - (sum % 10)) % 10);
  return body;
}

function iban(country: string, bban: string): string {
  const rearranged = `${bban}${country}00`;
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : ch;
    for (const d of value) remainder = (remainder * 10 + Number(d)) % 97;
  }
  return `${country}${String(98 - remainder).padStart(2, '0')}${bban}`;
}

function group(text: string, size: number, separator: string): string {
  return text.match(new RegExp(`.{1,${size}}`, 'g'))?.join(separator) ?? text;
}

/** Kind → how to make one planted value (secret, text around it). */
const KINDS: Record<string, (random: Random) => [string, string]> = {
  email: (r) => {
    const s = `${pick(r, 'abcdefghij', 6)}.${pick(r, 'klmnop', 4)}@example.com`;
    return [s, `contact ${s} today`];
  },
  email_url_encoded: (r) => {
    const s = `${pick(r, 'abcdefghij', 6)}%40mail.example.org`;
    return [s, `https://shop.test/cb?u=${s}&x=1`];
  },
  phone_us: (r) => {
    const s = `(415) 55${digits(r, 1)}-0${digits(r, 3)}`;
    return [s, `call ${s} after 5`];
  },
  phone_intl: (r) => {
    const s = `+44 20 7946 ${digits(r, 4)}`;
    return [s, `desk ${s}`];
  },
  card_spaces: (r) => {
    const s = group(luhnComplete('4', 16, r), 4, ' ');
    return [s, `card ${s} exp 12/29`];
  },
  card_dots: (r) => {
    const s = group(luhnComplete('51', 16, r), 4, '.');
    return [s, `pay with ${s}`];
  },
  card_amex: (r) => {
    const s = luhnComplete('37', 15, r);
    return [s, `amex ${s}`];
  },
  iban_de: (r) => {
    const s = iban('DE', digits(r, 18));
    return [s, `wire to ${s}`];
  },
  iban_lower: (r) => {
    const s = iban('GB', `WEST${digits(r, 14)}`).toLowerCase();
    return [s, `iban ${s}`];
  },
  ssn_dashes: (r) => {
    const s = `${100 + Math.floor(r() * 500)}-${10 + Math.floor(r() * 89)}-${1000 + Math.floor(r() * 8999)}`;
    return [s, `SSN ${s} verified`];
  },
  ssn_bare: (r) => {
    const s = `${100 + Math.floor(r() * 500)}${10 + Math.floor(r() * 89)}${1000 + Math.floor(r() * 8999)}`;
    return [s, `ssn: ${s}`];
  },
  ipv4: (r) => {
    const s = `81.${2 + Math.floor(r() * 200)}.${Math.floor(r() * 250)}.${1 + Math.floor(r() * 250)}`;
    return [s, `login from ${s}`];
  },
  ipv6: (r) => {
    const s = `2a00:1450:${pick(r, HEX, 4)}:${pick(r, HEX, 3)}::${pick(r, HEX, 4)}`;
    return [s, `peer ${s} connected`];
  },
  aws_access_key_id: (r) => {
    const s = `AKIA${pick(r, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
    return [s, `key id ${s}`];
  },
  aws_secret_bare: (r) => {
    const s = mixed(r, 40);
    return [s, `secret access key ${s} leaked`];
  },
  openai: (r) => {
    const s = `sk-proj-${mixed(r, 40)}`;
    return [s, `OPENAI ${s}`];
  },
  anthropic: (r) => {
    const s = `sk-ant-api03-${mixed(r, 40)}`;
    return [s, `claude ${s}`];
  },
  github: (r) => {
    const s = `ghp_${mixed(r, 36)}`;
    return [s, `gh ${s}`];
  },
  gitlab: (r) => {
    const s = `glpat-${mixed(r, 20)}`;
    return [s, `gl ${s}`];
  },
  npm: (r) => {
    const s = `npm_${mixed(r, 36)}`;
    return [s, `publish ${s}`];
  },
  huggingface: (r) => {
    const s = `hf_${mixed(r, 34)}`;
    return [s, `hub ${s}`];
  },
  slack_token: (r) => {
    const s = `xoxb-${digits(r, 11)}-${digits(r, 12)}-${mixed(r, 24)}`;
    return [s, `bot ${s}`];
  },
  slack_webhook: (r) => {
    const s = `T${pick(r, 'ABCDEFGHJK0123456789', 8)}/B${pick(r, 'ABCDEFGHJK0123456789', 8)}/${mixed(r, 24)}`;
    return [s, `post to https://hooks.slack.com/services/${s}`];
  },
  stripe: (r) => {
    const s = `sk_live_${mixed(r, 24)}`;
    return [s, `stripe ${s}`];
  },
  stripe_webhook: (r) => {
    const s = `whsec_${mixed(r, 32)}`;
    return [s, `signing ${s}`];
  },
  sendgrid: (r) => {
    const s = `SG.${mixed(r, 22)}.${mixed(r, 43)}`;
    return [s, `mail ${s}`];
  },
  twilio: (r) => {
    const s = `SK${pick(r, HEX, 32)}`;
    return [s, `twilio ${s}`];
  },
  google_api: (r) => {
    const s = `AIza${mixed(r, 35)}`;
    return [s, `maps ${s}`];
  },
  linear: (r) => {
    const s = `lin_api_${mixed(r, 40)}`;
    return [s, `linear ${s}`];
  },
  jwt: (r) => {
    const s = `eyJhbGciOiJIUzI1NiJ9.${mixed(r, 30)}.${mixed(r, 20)}`;
    return [s, `auth ${s}`];
  },
  bearer: (r) => {
    const s = mixed(r, 28);
    return [s, `Authorization: Bearer ${s}`];
  },
  url_credentials: (r) => {
    const s = `admin:${mixed(r, 12)}`;
    return [s, `postgres://${s}@db.internal:5432/app`];
  },
  password_assignment: (r) => {
    const s = `${mixed(r, 10)}!`;
    return [s, `password=${s} retry`];
  },
  password_prose: (r) => {
    const s = `${mixed(r, 9)}#`;
    return [s, `the password is ${s} ok`];
  },
  cli_password: (r) => {
    const s = mixed(r, 12);
    return [s, `deploy --password ${s} --force`];
  },
  cli_api_token: (r) => {
    const s = mixed(r, 16);
    return [s, `run --api-token ${s}`];
  },
  cli_short_p: (r) => {
    const s = mixed(r, 10);
    return [s, `mysql -u root -p${s} shop`];
  },
  curl_user: (r) => {
    const s = `ops:${mixed(r, 10)}`;
    return [s, `curl -u ${s} https://api.test`];
  },
  base64_secret: (r) => {
    const s = Buffer.from(
      `password=${mixed(r, 10)} user=${pick(r, 'abc', 4)}@example.com`,
    ).toString('base64');
    return [s, `payload ${s}`];
  },
  zero_width_key: (r) => {
    const key = `sk-ant-api03-${mixed(r, 30)}`;
    const s = `${key.slice(0, 15)}\u200b${key.slice(15)}`;
    return [key.slice(15), `key ${s}`];
  },
  zero_width_url_encoded: (r) => {
    const key = `ghp_${mixed(r, 36)}`;
    // The tail after the hidden space is too short to look random by itself.
    return [key.slice(12), `https://ci.test/hook?ref=${key.slice(0, 12)}%E2%80%8B${key.slice(12)}`];
  },
};

/** At least 200 planted values across every kind (5 per kind), reproducible from the seed. */
export function plantedCorpus(seed = 7): Planted[] {
  const random = seededRandom(seed);
  return Object.entries(KINDS).flatMap(([kind, make]) =>
    Array.from({ length: 5 }, () => {
      const [secret, text] = make(random);
      return { kind, secret, text };
    }),
  );
}

/** Benign look-alikes that must come out unchanged. */
export function benignCorpus(seed = 8): Array<{ kind: string; text: string }> {
  const random = seededRandom(seed);
  const makers: Record<string, () => string> = {
    order_id: () => `ORD-2026-${digits(random, 6)}`,
    uuid: () =>
      `${pick(random, HEX, 8)}-${pick(random, HEX, 4)}-4${pick(random, HEX, 3)}-a${pick(random, HEX, 3)}-${pick(random, HEX, 12)}`,
    sha1: () => pick(random, HEX, 40),
    sha256: () => pick(random, HEX, 64),
    price: () => `$${digits(random, 3)}.${digits(random, 2)}`,
    version: () =>
      `v${Math.floor(random() * 30)}.${Math.floor(random() * 30)}.${Math.floor(random() * 30)}`,
    timestamp: () => new Date(1.7e12 + Math.floor(random() * 1e11)).toISOString(),
    epoch_ms: () => String(1.7e12 + Math.floor(random() * 1e11)),
    model: () =>
      [
        'gpt-4o-mini-2024-07-18',
        'claude-3-5-sonnet-20241022',
        'llama-3.1-70b-instruct',
        'gemini-1.5-pro-002',
      ][Math.floor(random() * 4)] as string,
    loopback_url: () => `GET http://127.0.0.1:${10000 + Math.floor(random() * 50000)}/ping`,
    doc_ip: () => `203.0.113.${1 + Math.floor(random() * 250)}`,
    region: () => ['eu-west-1', 'us-east-2', 'ap-south-1'][Math.floor(random() * 3)] as string,
    words: () => 'the token is expired and the password is required',
  };
  return Object.entries(makers).flatMap(([kind, make]) =>
    Array.from({ length: 8 }, () => ({ kind, text: `${kind} ${make()} noted` })),
  );
}
