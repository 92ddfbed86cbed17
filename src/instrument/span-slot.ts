/**
 * A value kept on a span object under a symbol of its own: a property store per span, where a
 * WeakMap entry per span costs the garbage collector far more (each is an ephemeron). No
 * exporter reads symbol-keyed properties. A span that refuses new properties (frozen, or a
 * Proxy that says no) falls back to a WeakMap.
 */
export class SpanSlot<T> {
  private readonly key: symbol;
  private readonly fallback = new WeakMap<object, T>();
  private usedFallback = false;

  /** `key`: a registered symbol, when every copy of aitrail in the process must share the slot. */
  constructor(description: string, key: symbol = Symbol(description)) {
    this.key = key;
  }

  set(span: object, value: T | undefined): void {
    try {
      (span as Record<symbol, T | undefined>)[this.key] = value;
    } catch {
      this.usedFallback = true;
      if (value === undefined) this.fallback.delete(span);
      else this.fallback.set(span, value);
    }
  }

  get(span: object): T | undefined {
    const value = (span as Record<symbol, T | undefined>)[this.key];
    if (value !== undefined || !this.usedFallback) return value;
    return this.fallback.get(span);
  }
}
