/**
 * Child process of the embedded-store benchmark, on the built package (dist/, as users run it)
 * and plain Node (it strips this file's types itself; no tsx loader is measured). Two lives:
 *
 *   app    `initAuditTelemetry` (open, migrate), `events` audit events in requests of ten with
 *          the event loop turning between them, `flush()`, two reads, `shutdown()`;
 *   store  the store alone, its modules loaded beforehand: `openAuditStore` (open, migrate),
 *          `events` sealed records inserted ten at a time, two reads, `close()`.
 *
 * The event loop is watched throughout by a 5 ms timer (the longest gap between its ticks is the
 * longest block) and by `monitorEventLoopDelay`. `idle` only watches: the machine's own noise.
 *
 * usage: node embedded-store-child.ts <app|store|idle> <embedded|postgres> <data dir> <events> [url]
 * Prints `BENCH_RESULT <json>` (see child.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

export interface EmbeddedStoreChildResult {
  life: string;
  backend: string;
  /** Open the store and apply migrations (initAuditTelemetry, or openAuditStore). */
  openMs: number;
  writeMs: number;
  queryMs: number;
  closeMs: number;
  /** From open to closed. */
  totalMs: number;
  peakRssBytes: number;
  /** Longest gap between two ticks of a 5 ms timer, less the 5 ms. */
  maxGapMs: number;
  /**
   * The longest time the main thread ran between two ticks (Linux schedstat): the gap less the
   * time it waited for a CPU. On a busy machine the gap also holds the waits; this is the block.
   */
  maxBlockMs: number;
  /** The same, by phase. */
  blockByPhaseMs: Record<string, number>;
  /** User + system CPU time of the process, its threads included. */
  cpuMs: number;
  /** The longest delay monitorEventLoopDelay saw (10 ms resolution). */
  maxDelayMs: number;
  rows: number;
}

interface Store {
  query<T>(text: string, params?: unknown[]): Promise<T[]>;
  insertRecords(records: unknown[]): Promise<number>;
  close(): Promise<void>;
}

const TICK_MS = 5;
const [life, backend, dataDir, eventsArg, databaseUrl] = process.argv.slice(2);
const events = Number(eventsArg);
if (!life || !backend || !dataDir || !Number.isInteger(events)) {
  throw new TypeError(
    'usage: embedded-store-child.ts <app|store|idle> <embedded|postgres> <data dir> <events> [url]',
  );
}
// The embedded store is the default only without DATABASE_URL (the bench's may be set).
if (backend !== 'postgres') delete process.env.DATABASE_URL;
const url = backend === 'postgres' ? databaseUrl : undefined;

// Computed specifiers: the bench type-checks without a build, and runs what the build made.
const dist = (path: string) => import(new URL(`../dist/esm/${path}`, import.meta.url).href);
const aitrail = await dist('index.js');
const { openAuditStore } = await dist('store/open-store.js');
const { HashChain } = await dist('store/hash-chain.js');
const { canonicalJson } = await dist('store/canonical-json.js');
if (life === 'store') {
  // What openAuditStore loads on first use, so the store's figure holds no module loading.
  await dist(backend === 'postgres' ? 'store/postgres-store.js' : 'store/pglite-store.js');
}

/** Nanoseconds the main thread has run on a CPU (null off Linux: then the gap is the block). */
const schedstat = `/proc/self/task/${process.pid}/schedstat`;
const ranNs = (): number | null => {
  try {
    return Number(readFileSync(schedstat, 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
};
const delay = monitorEventLoopDelay({ resolution: 10 });
let lastTick = performance.now();
let lastRan = ranNs();
let maxGap = 0;
let maxBlock = 0;
let phaseBlock = 0;
const blockByPhaseMs: Record<string, number> = {};
const tick = () => {
  const now = performance.now();
  const ran = ranNs();
  const gap = now - lastTick;
  const block = ran === null || lastRan === null ? gap : Math.min(gap, (ran - lastRan) / 1e6);
  maxGap = Math.max(maxGap, gap);
  maxBlock = Math.max(maxBlock, block);
  phaseBlock = Math.max(phaseBlock, block);
  lastTick = now;
  lastRan = ran;
};
const watch = setInterval(tick, TICK_MS);
const marks: number[] = [];
/** Closes a phase: its longest block (counting the gap still open) and its end time. */
const endPhase = (name: string) => {
  tick();
  blockByPhaseMs[name] = Math.max(0, Math.round(phaseBlock - TICK_MS));
  phaseBlock = 0;
  marks.push(performance.now());
};
delay.enable();
await sleep(50);
maxGap = 0;
maxBlock = 0;
phaseBlock = 0;
delay.reset();
const cpuBefore = process.cpuUsage();

const started = performance.now();
marks.push(started);
let rows = 0;
const read = async (store: Store) => {
  const [count] = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_logs');
  await store.query(
    'SELECT event_id, action, actor_id, occurred_at FROM audit_logs ORDER BY occurred_at DESC LIMIT 100',
  );
  rows = Number(count?.n ?? 0);
};

if (life === 'app') {
  const telemetry = await aitrail.initAuditTelemetry({
    serviceName: 'bench-embedded-store',
    dataDir,
    databaseUrl: url,
    handleSignals: false,
  });
  endPhase('open');
  for (let sent = 0; sent < events; sent += 10) {
    aitrail.withAuditContext({ tenantId: 'acme', actor: { type: 'user', id: `u-${sent}` } }, () => {
      for (let i = sent; i < Math.min(sent + 10, events); i++) {
        aitrail.recordAuditEvent({
          action: 'billing.refund_issued',
          resourceType: 'order',
          resourceId: `ORD-${i}`,
          metadata: { amount: 42.5, currency: 'EUR' },
        });
      }
    });
    await nextTurn();
  }
  await telemetry.flush();
  endPhase('write');
  await read(telemetry.store);
  endPhase('query');
  await telemetry.shutdown();
  endPhase('close');
} else if (life === 'store') {
  const store: Store = await openAuditStore({ dataDir, databaseUrl: url });
  endPhase('open');
  const chain = new HashChain(`bench-${randomBytes(4).toString('hex')}`);
  for (let sent = 0; sent < events; sent += 10) {
    const batch = [];
    for (let i = sent; i < Math.min(sent + 10, events); i++) {
      const record = benchRecord(i);
      batch.push(chain.seal(record, canonicalJson(record.metadata)));
    }
    await store.insertRecords(batch);
  }
  endPhase('write');
  await read(store);
  endPhase('query');
  await store.close();
  endPhase('close');
} else {
  await sleep(1000);
  for (const phase of ['open', 'write', 'query', 'close']) endPhase(phase);
}
clearInterval(watch);
delay.disable();

const span = (i: number) => (marks[i + 1] as number) - (marks[i] as number);
const result: EmbeddedStoreChildResult = {
  life,
  backend,
  openMs: span(0),
  writeMs: span(1),
  queryMs: span(2),
  closeMs: span(3),
  totalMs: (marks[4] as number) - started,
  peakRssBytes: ownPeakRssBytes(),
  maxGapMs: Math.max(0, maxGap - TICK_MS),
  maxBlockMs: Math.max(0, maxBlock - TICK_MS),
  blockByPhaseMs,
  cpuMs: (() => {
    const cpu = process.cpuUsage(cpuBefore);
    return (cpu.user + cpu.system) / 1000;
  })(),
  maxDelayMs: delay.max / 1e6,
  rows,
};
process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
process.exit(0);

/** A record as the processor makes one from a tool-call span. */
function benchRecord(i: number) {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return {
    eventId: `${traceId}:${spanId}`,
    occurredAt: new Date().toISOString().replace('Z', '000Z'),
    tenantId: 'acme',
    actorType: 'user',
    actorId: `u-${i % 50}`,
    subjectId: `u-${i % 50}`,
    action: 'ai.tool_call',
    outcome: 'success',
    resourceType: null,
    resourceId: null,
    conversationId: `conv-${i % 20}`,
    taskId: null,
    agentName: 'billing',
    toolName: 'lookup_order',
    approvalId: null,
    metadata: { toolName: 'lookup_order', toolParams: { orderId: `ORD-${i}` } },
    traceId,
    spanId,
    serviceName: 'bench-embedded-store',
  };
}

/**
 * This process's own peak RSS: `VmHWM` on Linux, as `peakRssBytes` in child.ts does (getrusage's
 * `maxRSS` is kept across `execve` and reports the parent's peak). Written out here because this
 * child runs on plain Node, which resolves no `.js` import to child.ts.
 */
function ownPeakRssBytes(): number {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib !== undefined) return Number(kib) * 1024;
  } catch {
    // Not Linux: getrusage is what there is.
  }
  return process.resourceUsage().maxRSS * 1024;
}
