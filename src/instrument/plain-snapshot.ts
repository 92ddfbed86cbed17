/** Containers copied at most deep; a deeper value (or a cycle) is not plain data. */
const MAX_DEPTH = 32;
/** Containers and array items copied at most: beyond this, redacting at once is cheaper. */
const MAX_NODES = 4096;

/** A copy of plain data, held until it is redacted. */
export interface PlainSnapshot {
  readonly value: unknown;
}

const NOT_PLAIN: unique symbol = Symbol('not plain');

/**
 * A deep copy of `value` when it is plain data — primitives, arrays, plain objects and Dates —
 * so redacting the copy later gives exactly what redacting `value` now would, whatever the
 * caller does to `value` meanwhile. Anything else (class instances, Maps, Buffers, Errors,
 * `toJSON`, cycles, very large values) gives `undefined`: the caller then redacts at once.
 * Getters and Proxy traps run now, once, as the redactor would have run them.
 */
export function snapshotPlainData(value: unknown): PlainSnapshot | undefined {
  try {
    const copy = copyValue(value, 0, { nodes: MAX_NODES });
    return copy === NOT_PLAIN ? undefined : { value: copy };
  } catch {
    // A throwing getter or Proxy trap: redacting at once records it as the redactor does.
    return undefined;
  }
}

/** Primitives and functions are immutable to the redactor: kept as they are. */
function copyValue(value: unknown, depth: number, budget: { nodes: number }): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH || --budget.nodes < 0) return NOT_PLAIN;
  const prototype = Object.getPrototypeOf(value);
  if (prototype === Date.prototype) return new Date(Date.prototype.getTime.call(value));
  // The redactor calls `toJSON` when it serializes: later would be too late.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return NOT_PLAIN;
  if (Array.isArray(value)) {
    if (prototype !== Array.prototype) return NOT_PLAIN;
    budget.nodes -= value.length;
    if (budget.nodes < 0) return NOT_PLAIN;
    const copy = value.slice();
    for (let index = 0; index < copy.length; index++) {
      const item = copy[index];
      if (typeof item !== 'object' || item === null) continue;
      const itemCopy = copyValue(item, depth + 1, budget);
      if (itemCopy === NOT_PLAIN) return NOT_PLAIN;
      copy[index] = itemCopy;
    }
    return copy;
  }
  if (prototype !== Object.prototype && prototype !== null) return NOT_PLAIN;
  // Spread keeps the key order and defines `__proto__` as the own key it is.
  const copy: Record<string, unknown> = { ...value };
  for (const key in copy) {
    const item = copy[key];
    // An inherited enumerable key (a polluted prototype) is not the value's: the redactor skips it.
    if (typeof item !== 'object' || item === null || !Object.hasOwn(copy, key)) continue;
    const itemCopy = copyValue(item, depth + 1, budget);
    if (itemCopy === NOT_PLAIN) return NOT_PLAIN;
    copy[key] = itemCopy;
  }
  return copy;
}
