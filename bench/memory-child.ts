/**
 * Child process of the memory benchmark: `initAuditTelemetry` against a database that is down,
 * then `events` `recordAuditEvent` calls arriving in requests of 100 (the event loop turns
 * between requests), then `flush()`, which resolves once every record is fsynced to the journal.
 * With `events` = 0 it is the baseline: the same initialisation, nothing emitted.
 *
 * usage: memory-child.ts <database url> <data dir> <events> <maxQueueRecords> [maxQueueBytes]
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { withAuditContext } from '../src/instrument/audit-context.js';
import { recordAuditEvent } from '../src/instrument/audit-event.js';
import { initAuditTelemetry } from '../src/telemetry/init.js';
import { peakRssBytes, reportToParent } from './child.js';
import { yieldToEventLoop } from './runtime.js';

export interface MemoryChildResult {
  events: number;
  maxQueueRecords: number;
  peakRssBytes: number;
  emitSeconds: number;
  flushSeconds: number;
  journalBytes: number;
  journaled: number;
  written: number;
  dropped: number;
  queueDepthAfterFlush: number;
  /** Write attempts that failed while the database was down (each one a connection attempt). */
  failedWrites: number;
}

const REQUEST = 100;

function directoryBytes(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    const stat = statSync(path);
    total += stat.isDirectory() ? directoryBytes(path) : stat.size;
  }
  return total;
}

const [url, dataDir, eventsArg, boundArg, bytesArg] = process.argv.slice(2);
const events = Number(eventsArg);
const maxQueueRecords = Number(boundArg);
const maxQueueBytes = bytesArg === undefined ? undefined : Number(bytesArg);
if (!url || !dataDir || !Number.isInteger(events) || !Number.isInteger(maxQueueRecords)) {
  throw new TypeError('usage: memory-child.ts <url> <data dir> <events> <maxQueueRecords>');
}

// Quiet: the writer warns (rate-limited) that the database is unreachable; that is the point.
console.warn = () => {};
const telemetry = await initAuditTelemetry({
  databaseUrl: url,
  dataDir,
  serviceName: 'bench-memory',
  handleSignals: false,
  delivery: { maxQueueRecords, maxQueueBytes, shutdownDeadlineMs: 1000 },
});
const started = performance.now();
for (let sent = 0; sent < events; sent += REQUEST) {
  withAuditContext(
    { tenantId: `tenant-${sent % 20}`, actor: { type: 'user', id: `user-${sent % 10_000}` } },
    () => {
      for (let i = 0; i < Math.min(REQUEST, events - sent); i++) {
        recordAuditEvent({
          action: 'billing.refund_issued',
          resourceType: 'order',
          resourceId: `ORD-2026-${String(sent + i).padStart(6, '0')}`,
          reason: 'parcel arrived damaged; customer sent photos',
          metadata: { amount: 42.5, currency: 'EUR', channel: 'chat', ticket: `T-${sent + i}` },
        });
      }
    },
  );
  await yieldToEventLoop();
}
const emitted = performance.now();
await telemetry.flush();
const flushed = performance.now();
const stats = telemetry.stats();
const result: MemoryChildResult = {
  events,
  maxQueueRecords,
  peakRssBytes: peakRssBytes(),
  emitSeconds: (emitted - started) / 1000,
  flushSeconds: (flushed - emitted) / 1000,
  journalBytes: directoryBytes(join(dataDir, 'journal')),
  journaled: stats.journaled,
  written: stats.written,
  dropped: stats.dropped,
  queueDepthAfterFlush: stats.queueDepth,
  failedWrites: stats.failedWrites,
};
reportToParent(result);
await telemetry.shutdown();
process.exit(0);
