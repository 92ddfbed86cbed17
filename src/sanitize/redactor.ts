import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { CleanStringCache } from './clean-cache.js';
import { ENCODED_SECRET, redactEncoded, removeInvisible } from './encoded-text.js';
import { compileKeyRules, type KeyRuleMatch } from './key-rules.js';
import { redactListInContext } from './list-context.js';
import { resolvePolicy } from './policy.js';
import { maskMarker, REDACTION_FAILED, resolveHashKey } from './replacement.js';
import { createSafeSerializer, type KeyDescription } from './safe-json.js';
import { looksLikeRandomToken, looksLikeSecretValue } from './secret-values.js';
import { jsonStringBytes, toStorableString, truncateString } from './string-hygiene.js';
import {
  BRACKET,
  JSON_ESCAPE,
  NON_ASCII,
  NUL,
  SURROGATE,
  TextFeatures,
  WHITESPACE,
} from './text-features.js';
import { compileTextRedaction } from './text-redaction.js';
import type { JsonValue, RedactionPolicy, RedactionStats, Redactor } from './types.js';

/**
 * Characters scanned beyond `maxStringLength` before a long string is cut, so a secret that
 * straddles the cut is still recognised whole and never leaks as a prefix.
 */
const SCAN_MARGIN = 4096;

/** Integers this large may be card numbers stored as numbers (epoch milliseconds are 13 digits too). */
const SMALLEST_CARD_NUMBER = 1e12;

const MAX_CACHED_KEYS = 4096;

/**
 * OTel attributes naming the server a span talked to: a host name or address there is the
 * service's own infrastructure, not a person's, and is kept as it is.
 */
const SERVER_ADDRESS_KEYS: ReadonlySet<string> = new Set([
  'server.address',
  'network.local.address',
  'net.host.name',
  'db.connection_string.host',
]);
const BARE_HOST = /^[A-Za-z0-9.:[\]-]{1,255}$/;
const SINGLE_WORD = /^[^\s[\]]+$/;
const MAX_CACHED_KEY_LENGTH = 256;

/** Serialized JSON objects and arrays inside attribute strings are redacted structurally. */
function looksLikeJsonContainer(text: string): boolean {
  const trimmed = text.trim();
  const first = trimmed[0];
  const last = trimmed[trimmed.length - 1];
  return (first === '{' && last === '}') || (first === '[' && last === ']');
}

/**
 * Compiles a redaction policy once into a `Redactor` (pino-style: regexes, lookup sets and
 * replacement functions are built here, not per value). The policy is validated eagerly: an
 * unknown option, a detector pattern without the `g` flag or an unknown mode throws a
 * `TypeError` naming the option.
 *
 * Each string is scanned once by a prefilter (`TextFeatures`, one per redactor and reused); a
 * detector runs only when that scan leaves it a chance, so a clean string comes back as the
 * same string after one pass. Key names are described once and cached.
 *
 * Replacements: key rules write `[REDACTED:<rule>]`; detectors write `[REDACTED:<name>]`
 * (`mask`, the default), `[<name>:<8 hex of HMAC-SHA256>]` (`hash`) or nothing (`remove`). A
 * value whose redaction throws becomes `[REDACTION_FAILED]` and counts in `stats.failures`.
 */
export function createRedactor(policy?: RedactionPolicy): Redactor {
  const resolved = resolvePolicy(policy);
  const { limits } = resolved;
  const hashKey = resolveHashKey(resolved.hashKey);
  const detectPlain = compileTextRedaction({
    detectors: resolved.detectors,
    modeOf: resolved.modeOf,
    hashKey,
  });
  const encodedMarker = maskMarker(ENCODED_SECRET);
  const features = new TextFeatures();
  const detectDecoded = (decoded: string) => detectPlain(decoded, features);
  const detect = (text: string) => {
    const visible = removeInvisible(text, features);
    return redactEncoded(detectPlain(visible, features), features, detectDecoded, encodedMarker);
  };
  const keyRule = compileKeyRules({ extraKeys: resolved.extraKeys, allowKeys: resolved.allowKeys });
  const stats: RedactionStats = { failures: 0 };
  const keyDescriptions = new Map<string, KeyDescription>();
  /**
   * The last string `redactString` returned unchanged, with its character classes: the
   * serializer asks about it right away (`stringBytes`, `isSingleWord`), without a rescan.
   */
  let lastClean: string | undefined;
  let lastCleanFlags = 0;
  const pure = resolved.detectors.every((detector) => !detector.linear || !detector.validate);
  const cleanStrings = pure ? new CleanStringCache() : undefined;

  /** Detectors, NUL/surrogate cleanup and `maxStringLength`; a throwing detector fails closed. */
  function redactString(text: string): string {
    const knownFlags = cleanStrings?.get(text);
    if (knownFlags !== undefined) {
      lastClean = text;
      lastCleanFlags = knownFlags;
      return text;
    }
    try {
      const scanLimit = limits.maxStringLength + SCAN_MARGIN;
      const scanned = text.length > scanLimit ? text.slice(0, scanLimit) : text;
      const storable = features.scan(scanned).has(NUL | SURROGATE)
        ? toStorableString(scanned)
        : scanned;
      const redacted = detect(storable);
      const dropped = text.length - scanned.length;
      if (dropped === 0 && redacted.length <= limits.maxStringLength) {
        if (redacted === text && features.text === text && features.exact) {
          lastClean = text;
          lastCleanFlags = features.flags;
          cleanStrings?.remember(text, features.flags);
        }
        return redacted;
      }
      const fullLength = redacted.length + dropped;
      return truncateString(redacted, limits.maxStringLength, fullLength);
    } catch {
      stats.failures++;
      return REDACTION_FAILED;
    }
  }

  /** JSON bytes of a string; the one just found clean and escape-free is not scanned again. */
  function stringBytes(text: string): number {
    if (text === lastClean && (lastCleanFlags & (JSON_ESCAPE | NON_ASCII)) === 0) {
      return text.length + 2;
    }
    return jsonStringBytes(text);
  }

  /** No whitespace and no brackets (`/^[^\s[\]]+$/`), read from the scan when it is at hand. */
  function isSingleWord(text: string): boolean {
    if (text === lastClean && (lastCleanFlags & NON_ASCII) === 0) {
      return text.length > 0 && (lastCleanFlags & (WHITESPACE | BRACKET)) === 0;
    }
    return SINGLE_WORD.test(text);
  }

  /**
   * Output name and key rule of a key, cached per compiled redactor: keys repeat across values.
   * Keys go through the same detectors as values: an email used as a key is masked too.
   */
  function describeKey(key: string): KeyDescription {
    const cached = keyDescriptions.get(key);
    if (cached !== undefined) return cached;
    const name = redactString(key);
    const described: KeyDescription = { name, bytes: stringBytes(name) + 2, rule: keyRule(key) };
    if (key.length <= MAX_CACHED_KEY_LENGTH && name !== REDACTION_FAILED) {
      if (keyDescriptions.size >= MAX_CACHED_KEYS) keyDescriptions.clear();
      keyDescriptions.set(key, described);
    }
    return described;
  }

  function outputKey(key: string): string {
    return describeKey(key).name;
  }

  function redactNumber(value: number): JsonValue {
    if (!Number.isSafeInteger(value) || Math.abs(value) < SMALLEST_CARD_NUMBER) return value;
    const digits = String(value);
    const redacted = redactString(digits);
    return redacted === digits ? value : redacted;
  }

  /** Strings of one list read together as well (`['--password', '<v>']`). */
  const onlyBuiltIns = resolved.detectors.every((detector) => detector.linear !== true);
  const listContext = (items: readonly unknown[]) =>
    redactListInContext(items, redactString, { everyWindow: !onlyBuiltIns });

  const serialize = createSafeSerializer({
    limits,
    describeKey,
    keyReplacement: maskMarker,
    looksSecret: (value) => looksLikeSecretValue(value) || looksLikeRandomToken(value),
    text: redactString,
    stringBytes,
    isSingleWord,
    number: redactNumber,
    listContext,
  });

  function redactValue(value: unknown): JsonValue {
    try {
      return serialize(value);
    } catch {
      stats.failures++;
      return REDACTION_FAILED;
    }
  }

  function redactText(text: string): string {
    try {
      return redactString(typeof text === 'string' ? text : String(text ?? ''));
    } catch {
      stats.failures++;
      return REDACTION_FAILED;
    }
  }

  function redactAttributeString(text: string): string {
    if (looksLikeJsonContainer(text)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return redactString(text);
      }
      return JSON.stringify(redactValue(parsed));
    }
    return redactString(text);
  }

  function redactAttributeValue(value: unknown): AttributeValue | undefined {
    if (typeof value === 'string') return redactAttributeString(value);
    if (typeof value === 'number') {
      const redacted = redactNumber(value);
      return typeof redacted === 'string' ? redacted : value;
    }
    if (typeof value === 'boolean' || value === undefined || value === null) {
      return value as AttributeValue | undefined;
    }
    if (Array.isArray(value)) {
      const items = value.map((item) => {
        if (typeof item === 'string') return redactString(item);
        if (typeof item === 'number') return redactNumber(item);
        if (typeof item === 'boolean' || item === null || item === undefined) return item;
        return JSON.stringify(redactValue(item));
      });
      // `process.command_args`: `--api-token` and its value are two items.
      for (const [at, text] of listContext(items)) items[at] = text;
      return items as AttributeValue;
    }
    return JSON.stringify(redactValue(value));
  }

  /** An attribute under a secret-like key: see `serializeKeyed` for what is kept. */
  function keyedAttribute(rule: KeyRuleMatch, value: unknown): AttributeValue | undefined {
    if (value === null || value === undefined) return value as AttributeValue | undefined;
    if (rule.userDefined) return maskMarker(rule.rule);
    if (typeof value === 'boolean') return value;
    if (typeof value === 'number') return rule.numericSecret ? maskMarker(rule.rule) : value;
    if (rule.strength === 'whole') return maskMarker(rule.rule);
    if (typeof value === 'string' && (looksLikeSecretValue(value) || looksLikeRandomToken(value))) {
      return maskMarker(rule.rule);
    }
    return redactAttributeValue(value);
  }

  /**
   * A new attribute map: key rules on keys (the value becomes `[REDACTED:<rule>]`, whatever its
   * type), detectors on keys, string values and string array items, and structural redaction of
   * strings holding a JSON object or array (re-serialized compactly).
   */
  function redactAttributes(attributes: Attributes): Attributes {
    const output: Attributes = {};
    let keys: string[];
    try {
      keys = Object.keys(attributes ?? {});
    } catch {
      stats.failures++;
      return output;
    }
    for (const key of keys) {
      let name = key;
      let value: AttributeValue | undefined;
      try {
        name = outputKey(key);
        const rule = keyRule(key);
        const raw = attributes[key];
        if (SERVER_ADDRESS_KEYS.has(key) && typeof raw === 'string' && BARE_HOST.test(raw)) {
          value = raw;
        } else {
          value = rule === undefined ? redactAttributeValue(raw) : keyedAttribute(rule, raw);
        }
      } catch {
        stats.failures++;
        value = REDACTION_FAILED;
      }
      if (Object.hasOwn(output, name)) {
        let suffix = 2;
        while (Object.hasOwn(output, `${name}#${suffix}`)) suffix++;
        name = `${name}#${suffix}`;
      }
      if (name === '__proto__') {
        Object.defineProperty(output, name, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        output[name] = value;
      }
    }
    return output;
  }

  const redactor: Redactor = { redactText, redactValue, redactAttributes, stats };
  const portable = portablePolicy(policy, hashKey);
  // Kept out of sight (no enumerable property, no JSON) for another thread to compile it again.
  if (portable !== undefined) Object.defineProperty(redactor, PORTABLE_POLICY, { value: portable });
  return redactor;
}

/** Where a redactor keeps the policy it was compiled from (see `portablePolicyOf`). */
const PORTABLE_POLICY = Symbol('aitrail.redactionPolicy');

/**
 * A copy of `policy` that another thread can compile into the same redactor, its hash key
 * resolved (the per-process key is this thread's); undefined when it holds a function (a
 * detector's `validate`), which cannot cross to another thread.
 */
function portablePolicy(
  policy: RedactionPolicy | undefined,
  hashKey: Uint8Array | string,
): RedactionPolicy | undefined {
  // A copy keeps own data only: a detector's prototype method or a RegExp subclass would be lost.
  const plain = (value: unknown) => {
    const prototype = Object.getPrototypeOf(value);
    return prototype === Object.prototype || prototype === null;
  };
  const exactRegExp = (value: unknown) =>
    !(value instanceof RegExp) || Object.getPrototypeOf(value) === RegExp.prototype;
  const detectors = policy?.detectors ?? [];
  if (!detectors.every((d) => plain(d) && d.validate === undefined && exactRegExp(d.pattern)))
    return undefined;
  if (!(policy?.keys ?? []).every(exactRegExp)) return undefined;
  try {
    return structuredClone({ ...policy, hashKey });
  } catch {
    return undefined;
  }
}

/**
 * The policy a redactor made by `createRedactor` was compiled from, as plain data another thread
 * can compile again (`createRedactor(policy)` there redacts exactly as this one does); undefined
 * for a redactor made any other way, or whose policy holds a function.
 */
export function portablePolicyOf(redactor: Redactor): RedactionPolicy | undefined {
  return (redactor as { [PORTABLE_POLICY]?: RedactionPolicy })[PORTABLE_POLICY];
}
