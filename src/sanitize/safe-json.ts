import type { KeyRuleMatch } from './key-rules.js';
import { cutString } from './string-hygiene.js';
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

const isUpperOrDigit = (code: number) => (code >= 65 && code <= 90) || (code >= 48 && code <= 57);
const isLower = (code: number) => code >= 97 && code <= 122;
const isJoiner = (code: number) => code === 95 || code === 45;

/**
 * A first half that could start a token (`/[_-]$|^[A-Z0-9]{4,}|^[a-z]{2,4}[_-]/`): ends in `_`
 * or `-`, opens with four upper-case letters or digits, or with 2–4 lower-case letters and `_`
 * or `-` (`sk_`, `ghp_`, `xoxb-`).
 */
function looksLikeTokenHead(text: string): boolean {
  if (isJoiner(text.charCodeAt(text.length - 1))) return true;
  let upper = 0;
  while (upper < 4 && isUpperOrDigit(text.charCodeAt(upper))) upper++;
  if (upper === 4) return true;
  let lower = 0;
  while (lower < 4 && isLower(text.charCodeAt(lower))) lower++;
  for (let end = 2; end <= lower; end++) if (isJoiner(text.charCodeAt(end))) return true;
  return false;
}

/** Characters of `String(value)` for a finite number, counted without building the string. */
function numberLength(value: number): number {
  const magnitude = Math.abs(value);
  if (!Number.isInteger(value) || magnitude >= 1e21) return String(value).length;
  let length = value < 0 ? 2 : 1;
  for (let power = 10; power <= magnitude; power *= 10) length++;
  return length;
}

/** Returned by `serializeSpecial` for an object of no special kind. */
const NOT_SPECIAL: unique symbol = Symbol('not special');

/** Bytes kept free for the `…[truncated N chars]` marker (quotes included) of a string cut by `maxTotalBytes`. */
const STRING_MARKER_BYTES = 40;

/** What the serializer writes for one input key. */
export interface KeyDescription {
  /** The key as written to the output: storable, length-limited, scanned by detectors. */
  readonly name: string;
  /** Bytes of `"name":`, as charged against `maxTotalBytes`. */
  readonly bytes: number;
  /** What the key says about its value, else undefined. */
  readonly rule: KeyRuleMatch | undefined;
}

/** The redaction steps the serializer applies while it walks a value. */
export interface SerializerHooks {
  limits: RedactionLimits;
  /** Output name and key rule of an input key (the redactor caches these per key). */
  describeKey(key: string): KeyDescription;
  /** The replacement written for a value under a sensitive key. */
  keyReplacement(rule: string): string;
  /** Whether a string under a merely suggestive key (`password_policy`) is itself a secret. */
  looksSecret(value: string): boolean;
  /** A string value: storable, scanned by detectors, cut to `maxStringLength`. */
  text(value: string): string;
  /** Exact UTF-8 bytes of `text` written as a JSON string, quotes included. */
  stringBytes(text: string): number;
  /** Non-empty, without whitespace or brackets: could be half of a split token. */
  isSingleWord(text: string): boolean;
  /** A finite number; may come back as a replacement string (a card number stored as a number). */
  number(value: number): JsonValue;
  /** Replacements (position → text) for strings of one list that read together hide a secret. */
  listContext(items: readonly JsonValue[]): ReadonlyMap<number, string>;
}

interface WalkState {
  remaining: number;
  exhausted: boolean;
  /** The objects on the path being walked (a short stack: `maxDepth` bounds it). */
  ancestors: object[];
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
 * The entries of one object, read in order without a closure or tuple per entry: `next()`
 * moves to the next entry (false at the end), then `key` and `read()` describe it. `read` may
 * throw (a getter, a Proxy trap).
 */
interface EntrySource {
  /** Entries in all, for the `N more keys` marker. */
  readonly total: number;
  /** Input keys are distinct (an object's own keys), so output names only collide after a rename. */
  readonly distinctKeys: boolean;
  key: string;
  next(): boolean;
  read(): unknown;
}

class RecordEntries implements EntrySource {
  readonly distinctKeys = true;
  readonly total: number;
  key = '';
  private index = -1;

  constructor(
    private readonly record: Record<string, unknown>,
    private readonly keys: readonly string[],
  ) {
    this.total = keys.length;
  }

  next(): boolean {
    if (++this.index >= this.keys.length) return false;
    this.key = this.keys[this.index] as string;
    return true;
  }

  read(): unknown {
    return this.record[this.key];
  }
}

/** Map entries, pulled lazily: entries past the cut are never visited. */
class MapEntries implements EntrySource {
  readonly distinctKeys = false;
  readonly total: number;
  key = '';
  private value: unknown;
  private iterator: Iterator<[unknown, unknown]> | undefined;

  constructor(private readonly map: Map<unknown, unknown>) {
    this.total = map.size;
  }

  next(): boolean {
    this.iterator ??= this.map[Symbol.iterator]();
    const step = this.iterator.next();
    if (step.done) return false;
    this.key = mapKeyToString(step.value[0]);
    this.value = step.value[1];
    return true;
  }

  read(): unknown {
    return this.value;
  }
}

/** `{ name, message, code? }` of an Error; each read converts to a string (and may throw). */
class ErrorEntries implements EntrySource {
  readonly distinctKeys = true;
  readonly total: number;
  key = '';
  private index = -1;
  private readonly code: unknown;

  constructor(private readonly error: Error) {
    this.code = (error as { code?: unknown }).code;
    this.total = typeof this.code === 'string' || typeof this.code === 'number' ? 3 : 2;
  }

  next(): boolean {
    if (++this.index >= this.total) return false;
    this.key = ERROR_KEYS[this.index] as string;
    return true;
  }

  read(): unknown {
    if (this.index === 0) return String(this.error.name);
    if (this.index === 1) return String(this.error.message);
    return String(this.code);
  }
}

const ERROR_KEYS: readonly string[] = ['name', 'message', 'code'];

/**
 * Split-secret watch over the string values of one object or array as they are written: when
 * two adjacent single-word strings that each passed the detectors form a secret together
 * (`"sk_live_"`, `"4eC39HqLyjWDarjtT1zdp7dc"`), both are replaced. Only unchanged, marker-free,
 * whitespace-free strings of 4–256 characters are paired, so ordinary values cost one length
 * check. One instance per container; `slot` is an array index or an output key.
 */
class SplitSecretWatch<Slot> {
  private previousSlot: Slot | undefined;
  private previousText: string | undefined;

  /** True when `item` completes a split secret with the previous value: replace both slots. */
  completes(slot: Slot, item: JsonValue, hooks: SerializerHooks): boolean {
    if (
      typeof item !== 'string' ||
      item.length < 4 ||
      item.length > 256 ||
      !hooks.isSingleWord(item)
    ) {
      this.previousText = undefined;
      return false;
    }
    const previous = this.previousText;
    if (previous !== undefined && previous.length + item.length >= 16) {
      const joined = previous + item;
      // Full detection only when the halves could make a token: a prefix-like first half
      // (`sk_live_`, `AKIA…`) or a random-looking whole.
      if (looksLikeTokenHead(previous) && hooks.text(joined) !== joined) {
        this.previousText = undefined;
        return true;
      }
    }
    this.previousSlot = slot;
    this.previousText = item;
    return false;
  }

  /** The slot of the first half, valid right after `completes` returned true. */
  get firstHalf(): Slot {
    return this.previousSlot as Slot;
  }
}

/**
 * Builds `value → JsonValue`: the walk behind `redactValue`. It never mutates its input, never
 * calls `toJSON` twice in a row on the same path (so `toJSON` cannot recurse unbounded), adds an
 * object to `ancestors` only while descending into it (shared references are repeated, true
 * cycles become `[Circular]`), and charges every emitted byte against `maxTotalBytes`.
 *
 * Plain objects and arrays (the usual tool parameters) take a direct loop: no iterator, closure
 * or entry tuple per property. Every other kind goes through the general entry walk; both write
 * the same output and charge the same bytes.
 */
export function createSafeSerializer(hooks: SerializerHooks): (value: unknown) => JsonValue {
  const { maxDepth, maxKeys, maxArrayLength, maxTotalBytes } = hooks.limits;
  const splitReplacement = hooks.keyReplacement(SPLIT_SECRET);

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
    const bytes = hooks.stringBytes(text);
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
      const keptBytes = hooks.stringBytes(text.slice(0, keep));
      if (keptBytes <= room) break;
      keep = Math.max(0, Math.floor((keep * room) / keptBytes) - 1);
    }
    return cutString(text, keep, text.length);
  }

  function emitNumber(state: WalkState, value: number): JsonValue | undefined {
    if (!Number.isFinite(value)) return charge(state, 4) ? null : undefined;
    const result = hooks.number(Object.is(value, -0) ? 0 : value);
    if (typeof result === 'string') return emitString(state, result);
    return charge(state, numberLength(result as number)) ? result : undefined;
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

  /** Binary data, Dates, boxed primitives and RegExps; undefined for every other object. */
  function serializeSpecial(value: object, depth: number, state: WalkState) {
    if (value instanceof ArrayBuffer) return emitString(state, binarySummary(value));
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
    return NOT_SPECIAL;
  }

  function serializeObject(
    value: object,
    depth: number,
    state: WalkState,
    useToJSON: boolean,
  ): JsonValue | undefined {
    if (state.ancestors.includes(value)) return emitString(state, CIRCULAR);
    if (ArrayBuffer.isView(value)) return emitString(state, binarySummary(value));
    // Objects and arrays with the ordinary prototypes cannot be any of the special kinds
    // (each is recognised by its prototype chain), so they skip those checks.
    const prototype = Object.getPrototypeOf(value);
    const plain =
      prototype === Object.prototype || prototype === Array.prototype || prototype === null;
    if (!plain) {
      const special = serializeSpecial(value, depth, state);
      if (special !== NOT_SPECIAL) return special as JsonValue | undefined;
    }
    if (useToJSON && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      const replaced = (value as { toJSON: (key: string) => unknown }).toJSON('');
      return serialize(replaced, depth, state, false);
    }
    if (depth >= maxDepth) return emitString(state, MAX_DEPTH);
    state.ancestors.push(value);
    try {
      if (Array.isArray(value)) return serializeArray(value, depth, state);
      if (plain) return serializeRecord(value as Record<string, unknown>, depth, state);
      if (value instanceof Set) return serializeList(value, value.size, depth, state);
      if (value instanceof Map) return serializeEntries(new MapEntries(value), depth, state);
      if (value instanceof Error) return serializeEntries(new ErrorEntries(value), depth, state);
      return serializeRecord(value as Record<string, unknown>, depth, state);
    } finally {
      state.ancestors.pop();
    }
  }

  /** A property value; a throwing getter, Proxy trap or `toJSON` yields `[Unreadable]`. */
  function serializeRead(value: unknown, depth: number, state: WalkState) {
    try {
      return serialize(value, depth, state, true);
    } catch {
      return emitString(state, UNREADABLE);
    }
  }

  const cutByBudget = (remaining: number) => `[truncated ${remaining} more items (maxTotalBytes)]`;

  /**
   * Writes one list item. Returns false when the list ends here (budget spent), after writing
   * the marker for the items left out.
   */
  function writeItem(
    output: JsonValue[],
    item: JsonValue | undefined,
    index: number,
    length: number,
    state: WalkState,
    split: SplitSecretWatch<number>,
  ): boolean {
    let written = item;
    if (written === undefined && !state.exhausted && charge(state, 4)) written = null;
    if (written === undefined) {
      output.push(cutByBudget(length - index));
      return false;
    }
    output.push(written);
    if (split.completes(output.length - 1, written, hooks)) {
      output[split.firstHalf] = splitReplacement;
      output[output.length - 1] = splitReplacement;
    }
    if (state.exhausted) {
      if (index + 1 < length) output.push(cutByBudget(length - index - 1));
      return false;
    }
    return true;
  }

  /** A list's items as written, then its neighbours read together: `["--password", "<v>"]`. */
  function inContext(output: JsonValue[] | undefined, state: WalkState): JsonValue[] | undefined {
    if (output === undefined) return output;
    for (const [at, text] of hooks.listContext(output)) {
      // Charged like a write; a longer replacement may end the budget, never skip the scan.
      state.remaining -= hooks.stringBytes(text) - hooks.stringBytes(output[at] as string);
      output[at] = text;
    }
    if (state.remaining < 0) {
      state.remaining = 0;
      state.exhausted = true;
    }
    return output;
  }

  function serializeArray(items: unknown[], depth: number, state: WalkState) {
    return inContext(writeArray(items, depth, state), state);
  }

  function serializeList(
    items: Iterable<unknown> & object,
    declaredLength: number,
    depth: number,
    state: WalkState,
  ): JsonValue[] | undefined {
    return inContext(writeList(items, declaredLength, depth, state), state);
  }

  function writeArray(items: unknown[], depth: number, state: WalkState): JsonValue[] | undefined {
    const declared = items.length;
    if (!charge(state, 2)) return undefined;
    const length = Number.isSafeInteger(declared) && declared > 0 ? declared : 0;
    const limit = Math.min(length, maxArrayLength);
    const output: JsonValue[] = [];
    const split = new SplitSecretWatch<number>();
    for (let index = 0; index < limit; index++) {
      if (!charge(state, 1)) {
        output.push(cutByBudget(length - index));
        return output;
      }
      let item: JsonValue | undefined;
      try {
        item = serialize(items[index], depth + 1, state, true);
      } catch {
        item = emitString(state, UNREADABLE);
      }
      if (!writeItem(output, item, index, length, state, split)) return output;
    }
    if (length > limit) output.push(`[truncated ${length - limit} more items]`);
    return output;
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
    const iterator = items[Symbol.iterator]();
    const split = new SplitSecretWatch<number>();
    for (let index = 0; index < limit; index++) {
      if (!charge(state, 1)) {
        output.push(cutByBudget(length - index));
        return output;
      }
      let item: JsonValue | undefined;
      try {
        item = serialize(iterator.next().value, depth + 1, state, true);
      } catch {
        item = emitString(state, UNREADABLE);
      }
      if (!writeItem(output, item, index, length, state, split)) return output;
    }
    if (length > limit) output.push(`[truncated ${length - limit} more items]`);
    return output;
  }

  /**
   * The value under a key that a key rule matched. Booleans, null and (unless the rule names a
   * numeric secret such as a PIN) numbers are kept: `has_token: true`, `token_count: 3`. Under a
   * `whole` rule anything else is replaced without being walked; under `by_value` a string is
   * replaced only if it looks like a secret, and containers are walked as usual.
   */
  function serializeKeyed(rule: KeyRuleMatch, value: unknown, depth: number, state: WalkState) {
    const replacement = () => emitString(state, hooks.keyReplacement(rule.rule));
    if (value === null || value === undefined) return serialize(value, depth, state, false);
    if (rule.userDefined) return replacement();
    if (typeof value === 'boolean') return serialize(value, depth, state, false);
    if (typeof value === 'number' || typeof value === 'bigint') {
      return rule.numericSecret ? replacement() : serialize(value, depth, state, false);
    }
    if (rule.strength === 'whole') return replacement();
    if (typeof value === 'string' && hooks.looksSecret(value)) return replacement();
    return serializeRead(value, depth, state);
  }

  /** Marks an object whose keys were cut at this point. */
  function truncateKeys(
    output: Record<string, JsonValue>,
    note: string,
  ): Record<string, JsonValue> {
    defineEntry(output, TRUNCATED_KEY, note);
    return output;
  }

  /**
   * An object's entries, written in order: key rules, unique output names, the byte budget and
   * the split-secret watch. Cut entries leave `"[truncated]": "N more keys"`.
   */
  function serializeEntries(
    entries: EntrySource,
    depth: number,
    state: WalkState,
  ): Record<string, JsonValue> | undefined {
    if (!charge(state, 2)) return undefined;
    const { total } = entries;
    const output: Record<string, JsonValue> = {};
    const split = new SplitSecretWatch<string>();
    // Distinct input keys keep distinct names until the detectors rename one.
    let mayCollide = !entries.distinctKeys;
    for (let index = 0; entries.next(); index++) {
      if (index >= maxKeys) return truncateKeys(output, `${total - index} more keys`);
      const key = entries.key;
      const described = hooks.describeKey(key);
      let name = described.name;
      let keyBytes = described.bytes;
      if (name !== key) mayCollide = true;
      if (mayCollide && Object.hasOwn(output, name)) {
        name = uniqueKey(output, name);
        keyBytes = hooks.stringBytes(name) + 2;
      }
      if (!charge(state, keyBytes)) {
        return truncateKeys(output, `${total - index} more keys (maxTotalBytes)`);
      }
      const rule = described.rule;
      let item: JsonValue | undefined;
      if (rule === undefined) {
        try {
          item = serialize(entries.read(), depth + 1, state, true);
        } catch {
          item = emitString(state, UNREADABLE);
        }
      } else {
        let value: unknown;
        let readable = true;
        try {
          value = entries.read();
        } catch {
          readable = false;
        }
        item = readable
          ? serializeKeyed(rule, value, depth + 1, state)
          : emitString(state, UNREADABLE);
      }
      if (item === undefined) {
        if (!state.exhausted) {
          state.remaining += keyBytes;
          continue;
        }
        return truncateKeys(output, `${total - index} more keys (maxTotalBytes)`);
      }
      defineEntry(output, name, item);
      if (split.completes(name, item, hooks)) {
        defineEntry(output, split.firstHalf, splitReplacement);
        defineEntry(output, name, splitReplacement);
      }
      if (state.exhausted) {
        if (index + 1 < total) {
          defineEntry(output, TRUNCATED_KEY, `${total - index - 1} more keys (maxTotalBytes)`);
        }
        return output;
      }
    }
    return output;
  }

  function serializeRecord(record: Record<string, unknown>, depth: number, state: WalkState) {
    return serializeEntries(new RecordEntries(record, Object.keys(record)), depth, state);
  }

  return (value) => {
    const state: WalkState = { remaining: maxTotalBytes, exhausted: false, ancestors: [] };
    let result: JsonValue | undefined;
    try {
      result = serialize(value, 0, state, true);
    } catch {
      result = UNREADABLE;
    }
    return result === undefined ? null : result;
  };
}
