/**
 * Child process of the embedded-store benchmark: an app's life with aitrail, on the built package
 * (dist/, as users run it) and plain Node (its TypeScript is stripped, no tsx loader is measured):
 * `initAuditTelemetry` (open and migrate), `events` audit events in requests of ten with the event
 * loop turning between them, `flush()`, two reads, `shutdown()`. The event loop is watched
 * throughout by a 5 ms timer (the longest gap between its ticks is the longest block) and by
 * `monitorEventLoopDelay`. With mode `idle` it only watches for as long: the machine's own noise.
 *
 * usage: node embedded-store-child.ts <embedded|postgres|idle> <data dir> <events> [database url]
 * Prints `BENCH_RESULT <json>` (see child.ts).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

export interface EmbeddedStoreChildResult {
  mode: string;
  /** initAuditTelemetry: open the store, apply migrations. */
  initMs: number;
  writeMs: number;
  queryMs: number;
  shutdownMs: number;
  /** From initAuditTelemetry to shutdown resolved. */
  totalMs: number;
  peakRssBytes: number;
  /** Longest gap between two ticks of a 5 ms timer, less the 5 ms. */
  maxBlockMs: number;
  /** The longest delay monitorEventLoopDelay saw (10 ms resolution). */
  maxDelayMs: number;
  rows: number;
}

const TICK_MS = 5;
const [mode, dataDir, eventsArg, databaseUrl] = process.argv.slice(2);
const events = Number(eventsArg);
if (!mode || !dataDir || !Number.isInteger(events)) {
  throw new TypeError(
    'usage: embedded-store-child.ts <embedded|postgres|idle> <data dir> <events> [url]',
  );
}

// The embedded store is the default only without DATABASE_URL (the bench's may be set).
if (mode !== 'postgres') delete process.env.DATABASE_URL;

// A computed specifier: the bench type-checks without a build, and runs what the build made.
const entry = new URL('../dist/esm/index.js', import.meta.url).href;
const aitrail = await import(entry);

const delay = monitorEventLoopDelay({ resolution: 10 });
let lastTick = performance.now();
let maxGap = 0;
const watch = setInterval(() => {
  const now = performance.now();
  maxGap = Math.max(maxGap, now - lastTick);
  lastTick = now;
}, TICK_MS);
delay.enable();
await sleep(50);
maxGap = 0;
delay.reset();

const started = performance.now();
let initMs = 0;
let writeMs = 0;
let queryMs = 0;
let rows = 0;
if (mode === 'idle') {
  await sleep(1000);
} else {
  const telemetry = await aitrail.initAuditTelemetry({
    serviceName: 'bench-embedded-store',
    dataDir,
    databaseUrl: mode === 'postgres' ? databaseUrl : undefined,
    handleSignals: false,
  });
  const initialised = performance.now();
  initMs = initialised - started;
  for (let sent = 0; sent < events; sent += 10) {
    aitrail.withAuditContext(
      { tenantId: 'acme', actor: { type: 'user', id: `user-${sent}` } },
      () => {
        for (let i = sent; i < Math.min(sent + 10, events); i++) {
          aitrail.recordAuditEvent({
            action: 'billing.refund_issued',
            resourceType: 'order',
            resourceId: `ORD-${i}`,
            metadata: { amount: 42.5, currency: 'EUR' },
          });
        }
      },
    );
    await nextTurn();
  }
  await telemetry.flush();
  const written = performance.now();
  writeMs = written - initialised;
  const [count] = await telemetry.store.query('SELECT count(*)::int AS n FROM audit_logs');
  await telemetry.store.query(
    'SELECT event_id, action, actor_id, occurred_at FROM audit_logs ORDER BY occurred_at DESC LIMIT 100',
  );
  rows = Number(count?.n ?? 0);
  const queried = performance.now();
  queryMs = queried - written;
  await telemetry.shutdown();
}
const ended = performance.now();
maxGap = Math.max(maxGap, ended - lastTick);
clearInterval(watch);
delay.disable();

const result: EmbeddedStoreChildResult = {
  mode,
  initMs,
  writeMs,
  queryMs,
  shutdownMs: mode === 'idle' ? 0 : ended - started - initMs - writeMs - queryMs,
  totalMs: ended - started,
  peakRssBytes: process.resourceUsage().maxRSS * 1024,
  maxBlockMs: Math.max(0, maxGap - TICK_MS),
  maxDelayMs: delay.max / 1e6,
  rows,
};
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
process.exit(0);
