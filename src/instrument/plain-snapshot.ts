/** Containers copied at most; a deeper value (or a cycle) is not plain data. */
const MAX_DEPTH = 32;
/** Values copied at most: beyond this, redacting at once is cheaper than copying first. */
const MAX_NODES = 4096;

/** A copy of plain data, held until it is redacted. */
export interface PlainSnapshot {
  readonly value: unknown;
}

/**
 * A deep copy of `value` when it is plain data — strings, numbers, booleans, null, arrays,
 * plain objects and Dates — so redacting the copy later gives exactly what redacting `value`
 * now would, whatever the caller does to `value` meanwhile. Anything else (class instances,
 * Maps, Buffers, Errors, functions, `toJSON`, cycles, very large values) gives `undefined`:
 * the caller then redacts at once, as before.
 */
export function snapshotPlainData(value: unknown): PlainSnapshot | undefined {
  const budget = { nodes: MAX_NODES };
  try {
    const copy = copyValue(value, 0, budget);
    return copy === NOT_PLAIN ? undefined : { value: copy };
  } catch {
    // A throwing getter or Proxy trap: redacting at once records it as the redactor does.
    return undefined;
  }
}

const NOT_PLAIN: unique symbol = Symbol('not plain');

function copyValue(value: unknown, depth: number, budget: { nodes: number }): unknown {
  budget.nodes--;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return value;
    case 'object':
      break;
    default:
      return NOT_PLAIN;
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH || budget.nodes < 0) return NOT_PLAIN;
  // The redactor calls `toJSON` when it serializes: later would be too late.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return Object.getPrototypeOf(value) === Date.prototype
      ? new Date(Date.prototype.getTime.call(value))
      : NOT_PLAIN;
  }
  const prototype = Object.getPrototypeOf(value);
  if (Array.isArray(value)) {
    if (prototype !== Array.prototype) return NOT_PLAIN;
    const length = value.length;
    if (length > budget.nodes) return NOT_PLAIN;
    const copy: unknown[] = new Array(length);
    for (let index = 0; index < length; index++) {
      const item = copyValue(value[index], depth + 1, budget);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      copy[index] = item;
    }
    return copy;
  }
  if (prototype !== Object.prototype && prototype !== null) return NOT_PLAIN;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > budget.nodes) return NOT_PLAIN;
  const copy: Record<string, unknown> = {};
  for (const key of keys) {
    if (key === '__proto__') return NOT_PLAIN;
    const item = copyValue(record[key], depth + 1, budget);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    copy[key] = item;
  }
  return copy;
}
