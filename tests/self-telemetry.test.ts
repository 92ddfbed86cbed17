import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditTelemetry, initAuditTelemetry, recordAuditEvent } from '../src/index.js';
import { scratchDir } from './support/stores.js';

describe('delivery self-telemetry', () => {
  let telemetry: AuditTelemetry;
  const reader = new sdkMetrics.PeriodicExportingMetricReader({
    exporter: new sdkMetrics.InMemoryMetricExporter(sdkMetrics.AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 3_600_000,
  });

  beforeAll(async () => {
    telemetry = await initAuditTelemetry({
      serviceName: 'self-telemetry-test',
      dataDir: scratchDir(),
      metricReaders: [reader],
      handleSignals: false,
    });
  });

  afterAll(async () => {
    await telemetry?.shutdown();
  });

  it('reports received and written records through stats() and as OpenTelemetry metrics', async () => {
    for (let i = 0; i < 25; i++)
      recordAuditEvent({ action: 'test.counted', actor: { type: 'service', id: 'counter' } });
    await telemetry.flush();
    expect(telemetry.stats()).toMatchObject({
      received: 25,
      written: 25,
      dropped: 0,
      queueDepth: 0,
    });

    const { resourceMetrics } = await reader.collect();
    const points = new Map<string, number>();
    for (const scope of resourceMetrics.scopeMetrics) {
      if (scope.scope.name !== 'aitrail') continue;
      for (const metric of scope.metrics) {
        points.set(metric.descriptor.name, Number(metric.dataPoints[0]?.value));
      }
    }
    expect(points.get('aitrail.records.received')).toBe(25);
    expect(points.get('aitrail.records.written')).toBe(25);
    expect(points.get('aitrail.records.dropped')).toBe(0);
    expect(points.get('aitrail.queue.depth')).toBe(0);
    expect(points.has('aitrail.write.latency')).toBe(true);
  });
});
