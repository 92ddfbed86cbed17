import { randomUUID } from 'node:crypto';
import type { AuditRecord } from '../audit-record.js';
import { redactedHere } from '../unredacted-value.js';
import { type AuditWriterOptions, WriterCore, type WriterStats } from './writer-core.js';
import { resolveWriterSettings } from './writer-settings.js';
import { type WriterBackend, WriterThread } from './writer-thread.js';
import { whyNotThreaded } from './writer-thread-launch.js';

export type { AuditWriterOptions, WriterStats } from './writer-core.js';

/**
 * Batches audit records off the hot path into the store: hash-chained, journaled, checkpointed,
 * retried, idempotent (see `WriterCore` and docs/delivery.md). Where it buys a core, all of that
 * runs on a worker thread of its own (`thread`, default `auto`), and `enqueue` only hands the
 * record over; the promises (what `accepted` means, the crash window, the memory bound) are the
 * same on either thread.
 */
export class AuditWriter {
  readonly chainId: string;
  /** Where the work runs: `worker` (a thread of its own) or `inline` (this thread). */
  readonly thread: 'worker' | 'inline';
  private readonly backend: WriterBackend;

  constructor(options: AuditWriterOptions) {
    const settings = resolveWriterSettings(options);
    const chainId = options.chainId ?? randomUUID();
    const obstacle = settings.thread === 'inline' ? 'inline' : whyNotThreaded(options);
    if (settings.thread === 'worker' && obstacle !== null)
      throw new TypeError(`AuditWriter: thread 'worker' is not possible: ${obstacle}`);
    if (obstacle === null) {
      this.backend = new WriterThread({ ...options, chainId }, settings);
      this.thread = 'worker';
    } else {
      this.backend = new WriterCore({ ...options, chainId });
      this.thread = 'inline';
    }
    this.chainId = chainId;
  }

  /**
   * Accepts a record. Never throws; waits only as docs/delivery.md says (memory, crash window).
   * Values a processor left to redact (`UnredactedValue`) are redacted on the writer's thread, or
   * here when the writer runs here, before the record is sealed or journaled.
   */
  enqueue(record: AuditRecord): void {
    this.backend.enqueue(this.thread === 'worker' ? record : redactedHere(record));
  }

  /**
   * Resolves once every record accepted so far is committed to the database, or, while the
   * database is unreachable, fsynced to the journal.
   */
  flush(): Promise<void> {
    return this.backend.flush();
  }

  /**
   * Drains within `deadlineMs`; whatever is still in memory then goes to the journal. Writes a
   * final checkpoint when the database is reachable. The store stays open (its owner closes it).
   */
  shutdown(options?: { deadlineMs?: number }): Promise<void> {
    return this.backend.shutdown(options);
  }

  stats(): WriterStats {
    return this.backend.stats();
  }

  /**
   * For `process.on('exit')`, where nothing asynchronous runs any more: everything still in
   * memory goes to the journal synchronously, for the next start to replay.
   */
  persistBeforeExit(): void {
    this.backend.persistBeforeExit();
  }
}
