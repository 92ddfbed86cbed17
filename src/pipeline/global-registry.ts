/**
 * The one process-wide slot aitrail keeps, on `globalThis` under `Symbol.for('aitrail.pipeline')`
 * — the way `@opentelemetry/api` keeps its global tracer provider under
 * `Symbol.for('opentelemetry.js.api.1')`. It survives duplicate copies of the package in one
 * process (each copy finds the same slot) and holds only references: the active pipeline set by
 * `pipeline.register()` / `initAuditTelemetry`, the default pipeline helpers fall back to, the
 * random per-process hash key, and whether `initAuditTelemetry` is running.
 */
const REGISTRY_KEY = Symbol.for('aitrail.pipeline');

export interface AuditRegistry {
  /** Set by `register()`; what helpers redact and capture with. */
  active: unknown;
  /** Created on first use when nothing is registered: the default policy. */
  fallback: unknown;
  /** Key for `hash` mode when neither the policy nor `AITRAIL_REDACTION_KEY` gives one. */
  processHashKey: Uint8Array | undefined;
  /** The running `initAuditTelemetry` instance, if any (one per process). */
  telemetry: unknown;
}

export function auditRegistry(): AuditRegistry {
  const holder = globalThis as unknown as Record<symbol, AuditRegistry | undefined>;
  let registry = holder[REGISTRY_KEY];
  if (registry === undefined) {
    registry = {
      active: undefined,
      fallback: undefined,
      processHashKey: undefined,
      telemetry: undefined,
    };
    Object.defineProperty(globalThis, REGISTRY_KEY, { value: registry, enumerable: false });
  }
  return registry;
}
