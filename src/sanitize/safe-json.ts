import type { KeyRuleMatch } from './key-rules.js';
import { cutString, jsonStringBytes } from './string-hygiene.js';
import type { JsonValue, RedactionLimits } from './types.js';

/** Written for an object already being serialized higher up the same path. */
export const CIRCULAR = '[Circular]';
/** Written for a container nested deeper than `maxDepth`. */
export const MAX_DEPTH = '[MaxDepth]';
/** Written for a value whose getter, Proxy trap or `toJSON` threw. */
export const UNREADABLE = '[Unreadable]';
/** Written for a Date whose time is NaN. */
export const INVALID_DATE = '[Invalid Date]';
/** Key of the marker entry added to an object whose keys were cut. */
export const TRUNCATED_KEY = '[truncated]';

/** Written for each part of a secret that was split across adjacent values. */
export const SPLIT_SECRET = 'split_secret';
/** A string that could be part of a token: no whitespace, no replacement marker. */
const SPLIT_PART = /^[^\s[\]]+$/;
/** A first half that could start a token: ends in `_`/`-`, or is an upper/digit run of 4+. */
const SPLIT_HEAD = /(?:[_-]$|^[A-Z0-9]{4,}|^[a-z]{2,4}[_-])/;

/** Bytes kept free for the `…[truncated N chars]` marker (quotes included) of a string cut by `maxTotalBytes`. */
const STRING_MARKER_BYTES = 40;

/** The redaction steps the serializer applies while it walks a value. */
export interface SerializerHooks {
  limits: RedactionLimits;
  /** What the key says about its value, else undefined. */
  keyRule(key: string): KeyRuleMatch | undefined;
  /** The replacement written for a value under a sensitive key. */
  keyReplacement(rule: string): string;
  /** Whether a string under a merely suggestive key (`password_policy`) is itself a secret. */
  looksSecret(value: string): boolean;
  /** The key as written to the output: storable, length-limited, scanned by detectors. */
  outputKey(key: string): string;
  /** A string value: storable, scanned by detectors, cut to `maxStringLength`. */
  text(value: string): string;
  /** A finite number; may come back as a replacement string (a card number stored as a number). */
  number(value: number): JsonValue;
  /** Replacements (position → text) for strings of one list that read together hide a secret. */
  listContext(items: readonly JsonValue[]): ReadonlyMap<number, string>;
}

interface WalkState {
  remaining: number;
  exhausted: boolean;
  ancestors: Set<object>;
}

function defineEntry(target: Record<string, JsonValue>, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

/** `key`, or `key#2`, `key#3`… when two input keys redact to the same output key. */
function uniqueKey(target: Record<string, JsonValue>, key: string): string {
  if (!Object.hasOwn(target, key)) return key;
  let suffix = 2;
  while (Object.hasOwn(target, `${key}#${suffix}`)) suffix++;
  return `${key}#${suffix}`;
}

function binarySummary(value: ArrayBufferView | ArrayBuffer | SharedArrayBuffer): string {
  let kind = 'ArrayBuffer';
  if (Buffer.isBuffer(value)) kind = 'Buffer';
  else if (value instanceof DataView) kind = 'DataView';
  else if (ArrayBuffer.isView(value)) kind = Object.prototype.toString.call(value).slice(8, -1);
  else if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer) {
    kind = 'SharedArrayBuffer';
  }
  return `[${kind} ${value.byteLength} bytes]`;
}

function mapKeyToString(key: unknown): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'object' && key !== null) return Object.prototype.toString.call(key);
  if (typeof key === 'function') return '[Function]';
  return String(key);
}

/**
 * Builds `value → JsonValue`: the walk behind `redactValue`. It never mutates its input, never
 * calls `toJSON` twice in a row on the same path (so `toJSON` cannot recurse unbounded), adds an
 * object to `ancestors` only while descending into it (shared references are repeated, true
 * cycles become `[Circular]`), and charges every emitted byte against `maxTotalBytes`.
 */
export function createSafeSerializer(hooks: SerializerHooks): (value: unknown) => JsonValue {
  const { maxDepth, maxKeys, maxArrayLength, maxTotalBytes } = hooks.limits;

  /**
   * Watches the string values of one object or array as they are written: when two adjacent
   * single-word strings that each passed the detectors form a secret together (`"sk_live_"`,
   * `"4eC39HqLyjWDarjtT1zdp7dc"`), both are replaced. Only unchanged, marker-free, whitespace-free
   * strings of 4–256 characters are paired, so ordinary values cost one length check.
   */
  function splitSecretWatch<Slot>(replace: (slot: Slot) => void) {
    let previous: { slot: Slot; text: string } | undefined;
    return (slot: Slot, item: JsonValue) => {
      if (
        typeof item !== 'string' ||
        item.length < 4 ||
        item.length > 256 ||
        !SPLIT_PART.test(item)
      ) {
        previous = undefined;
        return;
      }
      if (previous !== undefined && previous.text.length + item.length >= 16) {
        const joined = previous.text + item;
        // Full detection only when the halves could make a token: a prefix-like first half
        // (`sk_live_`, `AKIA…`) or a random-looking whole.
        if (SPLIT_HEAD.test(previous.text) && hooks.text(joined) !== joined) {
          replace(previous.slot);
          replace(slot);
          previous = undefined;
          return;
        }
      }
      previous = { slot, text: item };
    };
  }

  function charge(state: WalkState, bytes: number): boolean {
    if (state.exhausted) return false;
    if (bytes > state.remaining) {
      state.exhausted = true;
      return false;
    }
    state.remaining -= bytes;
    return true;
  }

  /** Emits a string, cutting it to the remaining byte budget when it does not fit. */
  function emitString(state: WalkState, text: string): string | undefined {
    if (state.exhausted) return undefined;
    const bytes = jsonStringBytes(text);
    if (bytes <= state.remaining) {
      state.remaining -= bytes;
      return text;
    }
    state.exhausted = true;
    const room = state.remaining - STRING_MARKER_BYTES;
    state.remaining = 0;
    if (room < 16) return undefined;
    let keep = Math.min(text.length, room);
    for (let attempt = 0; attempt < 8; attempt++) {
      const keptBytes = jsonStringBytes(text.slice(0, keep));
      if (keptBytes <= room) break;
      keep = Math.max(0, Math.floor((keep * room) / keptBytes) - 1);
    }
    return cutString(text, keep, text.length);
  }

  function emitNumber(state: WalkState, value: number): JsonValue | undefined {
    if (!Number.isFinite(value)) return charge(state, 4) ? null : undefined;
    const result = hooks.number(Object.is(value, -0) ? 0 : value);
    if (typeof result === 'string') return emitString(state, result);
    return charge(state, String(result).length) ? result : undefined;
  }

  function serialize(value: unknown, depth: number, state: WalkState, useToJSON: boolean) {
    switch (typeof value) {
      case 'string':
        return emitString(state, hooks.text(value));
      case 'number':
        return emitNumber(state, value);
      case 'boolean':
        return charge(state, value ? 4 : 5) ? value : undefined;
      case 'bigint':
        return emitString(state, hooks.text(value.toString()));
      case 'object':
        if (value === null) return charge(state, 4) ? null : undefined;
        return serializeObject(value, depth, state, useToJSON);
      default:
        return undefined;
    }
  }

  function serializeObject(
    value: object,
    depth: number,
    state: WalkState,
    useToJSON: boolean,
  ): JsonValue | undefined {
    if (state.ancestors.has(value)) return emitString(state, CIRCULAR);
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
      return emitString(state, binarySummary(value));
    }
    if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer) {
      return emitString(state, binarySummary(value));
    }
    if (value instanceof Date) {
      const time = value.getTime();
      return emitString(state, Number.isNaN(time) ? INVALID_DATE : value.toISOString());
    }
    if (value instanceof String || value instanceof Number || value instanceof Boolean) {
      return serialize(value.valueOf(), depth, state, false);
    }
    if (value instanceof BigInt) return serialize(value.valueOf(), depth, state, false);
    if (value instanceof RegExp) return emitString(state, hooks.text(String(value)));
    if (useToJSON && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      const replaced = (value as { toJSON: (key: string) => unknown }).toJSON('');
      return serialize(replaced, depth, state, false);
    }
    if (depth >= maxDepth) return emitString(state, MAX_DEPTH);
    state.ancestors.add(value);
    try {
      if (Array.isArray(value)) return serializeList(value, value.length, depth, state);
      if (value instanceof Set) return serializeList(value, value.size, depth, state);
      if (value instanceof Map) return serializeMap(value, depth, state);
      if (value instanceof Error) return serializeError(value, depth, state);
      return serializeRecord(value as Record<string, unknown>, depth, state);
    } finally {
      state.ancestors.delete(value);
    }
  }

  /** Serializes one property read; a throwing getter or Proxy trap yields `[Unreadable]`. */
  function serializeChild(read: () => unknown, depth: number, state: WalkState) {
    try {
      return serialize(read(), depth, state, true);
    } catch {
      return emitString(state, UNREADABLE);
    }
  }

  function writeList(
    items: Iterable<unknown> & object,
    declaredLength: number,
    depth: number,
    state: WalkState,
  ): JsonValue[] | undefined {
    if (!charge(state, 2)) return undefined;
    const length = Number.isSafeInteger(declaredLength) && declaredLength > 0 ? declaredLength : 0;
    const limit = Math.min(length, maxArrayLength);
    const output: JsonValue[] = [];
    const isArray = Array.isArray(items);
    const iterator = isArray ? undefined : items[Symbol.iterator]();
    const cutByBudget = (remaining: number) =>
      `[truncated ${remaining} more items (maxTotalBytes)]`;
    const split = splitSecretWatch((position: number) => {
      output[position] = hooks.keyReplacement(SPLIT_SECRET);
    });
    for (let index = 0; index < limit; index++) {
      if (!charge(state, 1)) {
        output.push(cutByBudget(length - index));
        return output;
      }
      const read = isArray
        ? () => (items as unknown[])[index]
        : () => (iterator as Iterator<unknown>).next().value;
      let item = serializeChild(read, depth + 1, state);
      if (item === undefined && !state.exhausted && charge(state, 4)) item = null;
      if (item === undefined) {
        output.push(cutByBudget(length - index));
        return output;
      }
      output.push(item);
      split(output.length - 1, item);
      if (state.exhausted) {
        if (index + 1 < length) output.push(cutByBudget(length - index - 1));
        return output;
      }
    }
    if (length > limit) output.push(`[truncated ${length - limit} more items]`);
    return output;
  }

  /** A list's items, then its neighbours read together: `["--password", "<v>"]`. */
  function serializeList(
    items: Iterable<unknown> & object,
    declaredLength: number,
    depth: number,
    state: WalkState,
  ): JsonValue[] | undefined {
    const output = writeList(items, declaredLength, depth, state);
    if (output === undefined) return output;
    for (const [at, text] of hooks.listContext(output)) {
      // Charged like a write; a longer replacement may end the budget, never skip the scan.
      state.remaining -= jsonStringBytes(text) - jsonStringBytes(output[at] as string);
      output[at] = text;
    }
    if (state.remaining < 0) {
      state.remaining = 0;
      state.exhausted = true;
    }
    return output;
  }

  /**
   * The value under a key that a key rule matched. Booleans, null and (unless the rule names a
   * numeric secret such as a PIN) numbers are kept: `has_token: true`, `token_count: 3`. Under a
   * `whole` rule anything else is replaced without being walked; under `by_value` a string is
   * replaced only if it looks like a secret, and containers are walked as usual.
   */
  function serializeKeyed(
    rule: KeyRuleMatch,
    read: () => unknown,
    depth: number,
    state: WalkState,
  ) {
    let value: unknown;
    try {
      value = read();
    } catch {
      return emitString(state, UNREADABLE);
    }
    const replacement = () => emitString(state, hooks.keyReplacement(rule.rule));
    if (value === null || value === undefined) return serialize(value, depth, state, false);
    if (rule.userDefined) return replacement();
    if (typeof value === 'boolean') return serialize(value, depth, state, false);
    if (typeof value === 'number' || typeof value === 'bigint') {
      return rule.numericSecret ? replacement() : serialize(value, depth, state, false);
    }
    if (rule.strength === 'whole') return replacement();
    if (typeof value === 'string' && hooks.looksSecret(value)) return replacement();
    return serializeChild(() => value, depth, state);
  }

  /** Writes entries in order. Cut entries leave `"[truncated]": "N more keys"`. */
  function serializeEntries(
    entries: Iterable<readonly [string, () => unknown]>,
    total: number,
    depth: number,
    state: WalkState,
  ): Record<string, JsonValue> | undefined {
    if (!charge(state, 2)) return undefined;
    const output: Record<string, JsonValue> = {};
    const split = splitSecretWatch((name: string) =>
      defineEntry(output, name, hooks.keyReplacement(SPLIT_SECRET)),
    );
    let index = 0;
    for (const [key, read] of entries) {
      if (index >= maxKeys) {
        defineEntry(output, TRUNCATED_KEY, `${total - index} more keys`);
        return output;
      }
      const name = uniqueKey(output, hooks.outputKey(key));
      const keyBytes = jsonStringBytes(name) + 2;
      if (!charge(state, keyBytes)) {
        defineEntry(output, TRUNCATED_KEY, `${total - index} more keys (maxTotalBytes)`);
        return output;
      }
      const rule = hooks.keyRule(key);
      const item =
        rule === undefined
          ? serializeChild(read, depth + 1, state)
          : serializeKeyed(rule, read, depth + 1, state);
      index++;
      if (item === undefined) {
        if (!state.exhausted) {
          state.remaining += keyBytes;
          continue;
        }
        defineEntry(output, TRUNCATED_KEY, `${total - index + 1} more keys (maxTotalBytes)`);
        return output;
      }
      defineEntry(output, name, item);
      split(name, item);
      if (state.exhausted) {
        if (index < total)
          defineEntry(output, TRUNCATED_KEY, `${total - index} more keys (maxTotalBytes)`);
        return output;
      }
    }
    return output;
  }

  function* recordEntries(record: Record<string, unknown>, keys: string[]) {
    for (const key of keys) yield [key, () => record[key]] as const;
  }

  function serializeRecord(record: Record<string, unknown>, depth: number, state: WalkState) {
    const keys = Object.keys(record);
    return serializeEntries(recordEntries(record, keys), keys.length, depth, state);
  }

  function* mapEntries(map: Map<unknown, unknown>) {
    for (const [key, value] of map) yield [mapKeyToString(key), () => value] as const;
  }

  function serializeMap(map: Map<unknown, unknown>, depth: number, state: WalkState) {
    return serializeEntries(mapEntries(map), map.size, depth, state);
  }

  /** `{ name, message, code? }`: the stack is left out (paths, and often a copy of the message). */
  function serializeError(error: Error, depth: number, state: WalkState) {
    const fields: Array<readonly [string, () => unknown]> = [
      ['name', () => String(error.name)],
      ['message', () => String(error.message)],
    ];
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number')
      fields.push(['code', () => String(code)]);
    return serializeEntries(fields, fields.length, depth, state);
  }

  return (value) => {
    const state: WalkState = { remaining: maxTotalBytes, exhausted: false, ancestors: new Set() };
    let result: JsonValue | undefined;
    try {
      result = serialize(value, 0, state, true);
    } catch {
      result = UNREADABLE;
    }
    return result === undefined ? null : result;
  };
}
