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

function sortedCopy(value: unknown): unknown {
  if (value === null || typeof value !== 'object') {
    checkNumber(value);
    return value === undefined ? null : value;
  }
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = sortedCopy(value[i]);
      if (item === BY_HAND) return BY_HAND;
      out[i] = item;
    }
    return out;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  const copy: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (needsHand(key)) return BY_HAND;
    const item = record[key];
    if (item === undefined) continue;
    const sorted = sortedCopy(item);
    if (sorted === BY_HAND) return BY_HAND;
    copy[key] = sorted;
  }
  return copy;
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
