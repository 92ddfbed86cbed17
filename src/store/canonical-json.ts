/**
 * RFC 8785-style canonical JSON: object keys sorted by UTF-16 code units, no whitespace,
 * numbers in ECMAScript shortest form (what `JSON.stringify` already produces).
 * Input must already be plain JSON data (the redactor guarantees it for metadata).
 *
 * Fast path: rebuild objects with keys inserted in sorted order and serialise with one native
 * `JSON.stringify` call. Engines enumerate array-index keys ("1", "10", "2") numerically
 * whatever the insertion order, so a value holding such a key is serialised by hand instead.
 */
export function canonicalJson(value: unknown): string {
  const copy = sortedCopy(value);
  return copy === HAS_INDEX_KEYS ? byHand(value) : (JSON.stringify(copy) ?? 'null');
}

const HAS_INDEX_KEYS = Symbol('has array-index keys');
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

function isIndexKey(key: string): boolean {
  return ARRAY_INDEX.test(key) && Number(key) < 4_294_967_295;
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
      if (item === HAS_INDEX_KEYS) return HAS_INDEX_KEYS;
      out[i] = item;
    }
    return out;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  const copy: Record<string, unknown> = Object.create(null);
  for (const key of keys) {
    if (isIndexKey(key)) return HAS_INDEX_KEYS;
    const item = record[key];
    if (item === undefined) continue;
    const sorted = sortedCopy(item);
    if (sorted === HAS_INDEX_KEYS) return HAS_INDEX_KEYS;
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
