import { metrics } from '@opentelemetry/api';
import type { AuditProcessorStats } from '../processor/audit-span-processor.js';
import { VERSION } from '../version.js';

const COUNTERS: Array<[keyof AuditProcessorStats, string, string]> = [
  ['received', 'aitrail.records.received', 'Audit records accepted by the writer'],
  ['written', 'aitrail.records.written', 'Audit rows committed to the store'],
  [
    'duplicates',
    'aitrail.records.duplicates',
    'Records already present (replays, retries): not duplicated',
  ],
  ['journaled', 'aitrail.records.journaled', 'Records spilled to the on-disk journal'],
  ['replayed', 'aitrail.records.replayed', 'Journaled records replayed into the store'],
  [
    'poisoned',
    'aitrail.records.poisoned',
    'Records the database rejected, stored in degraded form',
  ],
  ['dropped', 'aitrail.records.dropped', 'Records lost: memory and journal both exhausted'],
  [
    'mappingFailures',
    'aitrail.records.mapping_failures',
    'Spans whose audit record could not be built',
  ],
];

/** Reports delivery counters through the global MeterProvider; returns an unregister function. */
export function registerSelfMetrics(read: () => AuditProcessorStats): () => void {
  const meter = metrics.getMeter('aitrail', VERSION);
  const counters = COUNTERS.map(([key, name, description]) => ({
    key,
    instrument: meter.createObservableCounter(name, { description, unit: '{record}' }),
  }));
  const depth = meter.createObservableGauge('aitrail.queue.depth', {
    description: 'Records held in memory',
    unit: '{record}',
  });
  const latency = meter.createObservableGauge('aitrail.write.latency', {
    description: 'Duration of the last insert',
    unit: 'ms',
  });
  const observables = [...counters.map((c) => c.instrument), depth, latency];
  const callback: Parameters<typeof meter.addBatchObservableCallback>[0] = (result) => {
    const stats = read();
    for (const { key, instrument } of counters) result.observe(instrument, stats[key] as number);
    result.observe(depth, stats.queueDepth);
    result.observe(latency, stats.lastWriteLatencyMs);
  };
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
