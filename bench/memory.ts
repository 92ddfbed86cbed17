/**
 * Memory while the database is down: peak RSS of a child process that initialises aitrail
 * against an unreachable database and receives `events` audit events, with the queue bounded
 * (`delivery.maxQueueRecords`) so the rest goes to the journal on disk. Beside it: a baseline
 * child that initialises and emits nothing, and a child whose bound is above `events`, which
 * shows what holding everything in memory would cost.
 *
 * This benchmark stops the throwaway cluster (it runs last); with DATABASE_URL the "down"
 * database is a closed loopback port instead.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChild } from './child.js';
import type { MemoryChildResult } from './memory-child.js';
import type { BenchPostgres } from './postgres.js';
import { type Figure, figure } from './stats.js';

export interface MemoryOptions {
  runs: number;
  events: number;
  postgres: BenchPostgres;
  log: (line: string) => void;
}

const GROUP = 'memory (database down)';
const MIB = 1024 * 1024;
/** The bound under test; aitrail's default is 50,000. */
const BOUND = 10_000;

async function runOnce(
  url: string,
  events: number,
  bound: number,
  boundBytes?: number,
): Promise<MemoryChildResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'aitrail-bench-memory-'));
  const bytes = boundBytes === undefined ? [] : [String(boundBytes)];
  try {
    return await runChild<MemoryChildResult>(
      'memory-child.ts',
      [url, dataDir, String(events), String(bound), ...bytes],
      { timeoutMs: 300_000 },
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

export async function benchMemory(options: MemoryOptions): Promise<Figure[]> {
  const database = await options.postgres.freshDatabase('memory');
  const url = await options.postgres.downUrl(database);
  const events = options.events;
  const unbounded = events * 2;
  const samples = { base: [] as number[], bounded: [] as number[], unbounded: [] as number[] };
  const problems: string[] = [];
  let last: MemoryChildResult | undefined;
  for (let run = 0; run < options.runs; run++) {
    const base = await runOnce(url, 0, BOUND);
    const bounded = await runOnce(url, events, BOUND);
    const all = await runOnce(url, events, unbounded, 2 ** 31);
    for (const r of [bounded, all]) {
      const accounted = r.journaled + r.written + r.queueDepthAfterFlush;
      if (r.dropped > 0 || accounted !== events) {
        problems.push(
          `run ${run + 1}, bound ${r.maxQueueRecords}: ${r.dropped} dropped, ${accounted} of ${events} accounted for`,
        );
      }
    }
    samples.base.push(base.peakRssBytes / MIB);
    samples.bounded.push(bounded.peakRssBytes / MIB);
    samples.unbounded.push(all.peakRssBytes / MIB);
    last = bounded;
    options.log(
      `  run ${run + 1}: baseline ${(base.peakRssBytes / MIB).toFixed(0)} MiB, bound ${BOUND}: ${(bounded.peakRssBytes / MIB).toFixed(0)} MiB (journal ${(bounded.journalBytes / MIB).toFixed(1)} MiB, flush ${bounded.flushSeconds.toFixed(2)} s), bound ${unbounded}: ${(all.peakRssBytes / MIB).toFixed(0)} MiB`,
    );
  }
  const baseline = figure({
    group: GROUP,
    id: 'm.base',
    label:
      'baseline child: initAuditTelemetry against the down database, nothing emitted: peak RSS',
    unit: 'MiB',
    samples: samples.base,
  });
  const n = events.toLocaleString('en-US');
  return [
    figure({
      group: GROUP,
      id: 'm.bounded',
      label: `${n} recordAuditEvent calls, maxQueueRecords ${BOUND.toLocaleString('en-US')} (maxQueueBytes default), then flush() (journal on disk): peak RSS`,
      unit: 'MiB',
      samples: samples.bounded,
      baseline,
      note:
        [
          last
            ? `journal ${(last.journalBytes / MIB).toFixed(1)} MiB on disk, ${last.journaled.toLocaleString('en-US')} records journaled, ${last.dropped} dropped, ${last.failedWrites.toLocaleString('en-US')} failed write attempts while down; emit ${last.emitSeconds.toFixed(2)} s, flush ${last.flushSeconds.toFixed(2)} s`
            : '',
          ...problems,
        ]
          .filter(Boolean)
          .join('; ') || undefined,
    }),
    figure({
      group: GROUP,
      id: 'm.unbounded',
      label: `the same with maxQueueRecords ${unbounded.toLocaleString('en-US')} and maxQueueBytes 2 GiB (all held in memory until flush): peak RSS`,
      unit: 'MiB',
      samples: samples.unbounded,
      baseline,
    }),
    baseline,
  ];
}
