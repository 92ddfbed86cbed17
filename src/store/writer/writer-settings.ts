import { join } from 'node:path';
import { resolveDataDir } from '../data-dir.js';
import type { WriterCoreOptions } from './writer-core.js';

/** `AuditWriterOptions` with defaults and environment fallbacks applied, each value checked. */
export interface WriterSettings {
  maxInFlight: number;
  writeTimeoutMs: number;
  batchSize: number;
  flushIntervalMs: number;
  maxQueueRecords: number;
  maxQueueBytes: number;
  retryInitialMs: number;
  retryMaxMs: number;
  checkpointEveryRecords: number;
  checkpointEveryMs: number;
  journalStaleAfterMs: number;
  /** Null: no journal. */
  journalDir: string | null;
  durability: 'journal-first' | 'memory-first';
  groupCommitMs: number;
  groupCommitRecords: number;
  thread: 'auto' | 'worker' | 'inline';
}

/**
 * Resolves the options once, where the writer is made: a bad value throws a `TypeError` naming
 * the option in the caller's thread, and a writer thread is handed the same values, never a
 * re-reading of the environment.
 */
export function resolveWriterSettings(options: WriterCoreOptions): WriterSettings {
  const durability = options.durability ?? process.env.AITRAIL_DURABILITY ?? 'journal-first';
  if (durability !== 'journal-first' && durability !== 'memory-first') {
    throw new TypeError(
      `AuditWriter: durability must be 'journal-first' or 'memory-first', got ${String(durability)}`,
    );
  }
  const thread = options.thread ?? (process.env.AITRAIL_WRITER_THREAD || 'auto');
  if (thread !== 'auto' && thread !== 'worker' && thread !== 'inline') {
    throw new TypeError(
      `AuditWriter: thread must be 'auto', 'worker' or 'inline', got ${String(thread)}`,
    );
  }
  return {
    maxInFlight: positive('maxInFlight', options.maxInFlight ?? 2),
    writeTimeoutMs: positive('writeTimeoutMs', options.writeTimeoutMs ?? 15_000),
    batchSize: positive('batchSize', options.batchSize ?? 1000),
    flushIntervalMs: positive('flushIntervalMs', options.flushIntervalMs ?? 100),
    maxQueueRecords: positive('maxQueueRecords', options.maxQueueRecords ?? 50_000),
    maxQueueBytes: positive('maxQueueBytes', options.maxQueueBytes ?? 32 * 1024 * 1024),
    retryInitialMs: positive('retry.initialDelayMs', options.retry?.initialDelayMs ?? 50),
    retryMaxMs: positive('retry.maxDelayMs', options.retry?.maxDelayMs ?? 5_000),
    checkpointEveryRecords: positive(
      'checkpoints.everyRecords',
      options.checkpoints?.everyRecords ?? 10_000,
    ),
    checkpointEveryMs: positive('checkpoints.everyMs', options.checkpoints?.everyMs ?? 60_000),
    journalStaleAfterMs: positive(
      'journalStaleAfterMs',
      options.journalStaleAfterMs ?? Number(process.env.AITRAIL_JOURNAL_STALE_MS || 15_000),
    ),
    journalDir:
      options.journalDir === undefined ? join(resolveDataDir(), 'journal') : options.journalDir,
    durability,
    groupCommitMs: positive('groupCommitMs', options.groupCommitMs ?? 5),
    groupCommitRecords: positive('groupCommitRecords', options.groupCommitRecords ?? 1000),
    thread,
  };
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`AuditWriter: ${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}
