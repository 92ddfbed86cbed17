/**
 * RFC 8785-style canonical JSON: object keys sorted by UTF-16 code units, no whitespace,
 * numbers in ECMAScript shortest form (what `JSON.stringify` already produces).
 * Input must already be plain JSON data (the redactor guarantees it for metadata).
 *
 * Fast path: rebuild objects as plain objects with keys inserted in sorted order and serialise
 * with one native `JSON.stringify` call (plain objects, not null-prototype ones: those are
 * dictionaries, which the native serialiser walks far more slowly). Engines enumerate
 * array-index keys ("1", "10", "2") numerically whatever the insertion order, and a plain
 * object would take a `__proto__` key as its prototype, so a value holding such a key is
 * serialised by hand instead.
 */
export function canonicalJson(value: unknown): string {
  const copy = sortedCopy(value);
  return copy === BY_HAND ? byHand(value) : (JSON.stringify(copy) ?? 'null');
}

const BY_HAND = Symbol('serialise by hand');
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

/** A key a plain object cannot hold in sorted insertion order: an array index, or `__proto__`. */
function needsHand(key: string): boolean {
  const first = key.charCodeAt(0);
  if (first >= 48 && first <= 57) return ARRAY_INDEX.test(key) && Number(key) < 4_294_967_295;
  return key === '__proto__';
}

function checkNumber(value: unknown): void {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError(`canonicalJson: ${value} is not representable in JSON`);
  }
}

/**
 * `value` with its objects' keys in sorted order, as plain objects and arrays; a part that is
 * already canonical (a plain object with sorted keys, an array, their contents too) is returned
 * as it is rather than copied: `JSON.stringify` writes it the same, and the writer's busiest path
 * allocates less.
 */
function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    checkNumber(value);
    return value === undefined ? null : value;
  }
  if (Array.isArray(value)) {
    // Holes and undefined items become null in a copy; `JSON.stringify` writes null for them too.
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const sorted = sortedCopy(item);
      if (sorted === BY_HAND) return BY_HAND;
      if (out !== undefined) out[i] = sorted;
      else if (sorted !== item) {
        out = new Array(value.length);
        for (let j = 0; j < i; j++) out[j] = value[j];
        out[i] = sorted;
      }
    }
    return out ?? value;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  // Kept as it is only when stringifying it writes what a sorted copy would: a plain object (a
  // Date or a class instance copies to its own keys), no `toJSON` of its own, keys in order.
  let reusable = Object.getPrototypeOf(record) === Object.prototype;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (needsHand(key)) return BY_HAND;
    if (key === 'toJSON' || (i > 0 && (keys[i - 1] as string) >= key)) reusable = false;
  }
  if (!reusable) keys.sort();
  let copy: Record<string, unknown> | undefined = reusable ? undefined : {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = record[key];
    if (item === undefined) continue;
    const sorted = sortedCopy(item);
    if (sorted === BY_HAND) return BY_HAND;
    if (copy !== undefined) copy[key] = sorted;
    else if (sorted !== item) {
      copy = {};
      for (let j = 0; j < i; j++) {
        const earlier = keys[j] as string;
        if (record[earlier] !== undefined) copy[earlier] = record[earlier];
      }
      copy[key] = sorted;
    }
  }
  return copy ?? record;
}

function byHand(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    checkNumber(value);
    return value === undefined ? 'null' : JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(byHand).join(',')}]`;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item !== undefined) parts.push(`${JSON.stringify(key)}:${byHand(item)}`);
  }
  return `{${parts.join(',')}}`;
}
