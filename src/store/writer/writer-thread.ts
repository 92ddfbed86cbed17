import { randomUUID } from 'node:crypto';
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  type Worker,
} from 'node:worker_threads';
import type { AuditRecord } from '../audit-record.js';
import { redactedHere } from '../unredacted-value.js';
import { signingKeyOf } from './checkpoint-signer.js';
import { type AuditLogger, consoleLogger, rateLimited } from './logger.js';
import { SharedWriterStats, type ThreadSnapshot } from './shared-stats.js';
import { ThreadRedactors } from './thread-redaction.js';
import { describeError, isConnectionError } from './write-errors.js';
import { type AuditWriterOptions, WriterCore, type WriterStats } from './writer-core.js';
import type { WriterSettings } from './writer-settings.js';
import {
  type FromWriterThread,
  startWorker,
  type ThreadLogLine,
  type ToWriterThread,
} from './writer-thread-launch.js';

/** What `AuditWriter` delegates to: a `WriterCore` here, or one on a thread of its own. */
export interface WriterBackend {
  enqueue(record: AuditRecord): void;
  flush(): Promise<void>;
  shutdown(options?: { deadlineMs?: number }): Promise<void>;
  stats(): WriterStats;
  persistBeforeExit(): void;
}

/** Records per message; a microtask also sends whatever one turn produced. */
const TRANSFER_RECORDS = 256;
/** Longest one `enqueue` waits for the writer thread (back-pressure, see `holdBack`). */
const MAX_WAIT_MS = 1_000;
/** The same while the thread is still starting (loading its modules): it has published nothing. */
const STARTUP_WAIT_MS = 30_000;
/** How long `process.on('exit')` (or a stuck shutdown) waits for the thread to journal what it holds. */
const EXIT_WAIT_MS = 10_000;
/** Beyond a shutdown's deadline and one statement's timeout: closing the thread's connections. */
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * The calling thread's side of a `WriterCore` that runs on a worker thread: sealing, hashing,
 * journal writes and fsyncs, tree heads and COPY run there, on another core. Here, `enqueue`
 * only encodes the record as JSON and sends it on in groups; `stats()` reads the counters the
 * thread publishes in shared memory. The caller waits (a bounded back-pressure) only where the
 * inline writer would have done I/O on its turn: when more records than one group commit are
 * not yet durable (journal-first), or memory holds more than its hard limit.
 *
 * If the thread dies, a `WriterCore` on this thread takes over with a new chain: what the thread
 * had not received is delivered by it, what it had received but not made durable is counted as
 * dropped and logged.
 */
export class WriterThread implements WriterBackend {
  readonly chainId: string;
  private readonly worker: Worker;
  private readonly shared: SharedWriterStats;
  private readonly logger: AuditLogger;
  /** Drops here repeat per record while the thread makes no room: summarised, as the thread's are. */
  private readonly dropLogger: AuditLogger;
  /** The thread's log lines: printed as the event loop turns, and at once in `stats()` and waits. */
  private readonly logs: MessagePort;
  private readonly maxQueueRecords: number;
  private readonly maxQueueBytes: number;
  private readonly window: number;
  private readonly writeTimeoutMs: number;
  private pending: string[] = [];
  /** Characters of `pending`: memory held here, bounded with the thread's by `maxQueueBytes`. */
  private pendingBytes = 0;
  private sendScheduled = false;
  /** Records handed to `enqueue`, and of those sent to the thread. */
  private received = 0;
  private sent = 0;
  /** Sent batches not yet taken by the thread, kept for a takeover (`end`: `sent` after it). */
  private unconsumed: Array<{ end: number; count: number; text: string }> = [];
  private readonly requests = new Map<number, () => void>();
  private nextRequest = 1;
  /** Records that may still be handed over before the bounds are read again (see `holdBack`). */
  private headroom = 0;
  /** Bytes that may still be handed over before the bounds are read again. */
  private byteHeadroom = 0;
  /** Version of a snapshot after which the thread stopped answering a wait: no more waiting. */
  private stalledAt = -1;
  private closed = false;
  private droppedHere = 0;
  /** Redaction policies the thread applies to held values before it seals a record. */
  private readonly redactors: ThreadRedactors;
  /**
   * The thread was behind when its counters were last read: held values are then redacted here,
   * on this thread's spare time (it would otherwise soon wait for the thread), so both cores work.
   */
  private threadBehind = false;
  /** The thread's last snapshot and the core on this thread that replaced it (after a crash). */
  private takeover: { final: ThreadSnapshot; core: WriterCore } | null = null;

  constructor(
    private readonly options: AuditWriterOptions,
    settings: WriterSettings,
  ) {
    this.chainId = options.chainId ?? randomUUID();
    this.logger = options.logger ?? consoleLogger;
    this.dropLogger = rateLimited(this.logger);
    // Until the thread reports otherwise, its journal is assumed to work: the bounds hold from the start.
    const journal = settings.journalDir !== null;
    this.shared = new SharedWriterStats({
      journalWritable: journal,
      journalAccepting: journal && settings.durability === 'journal-first',
    });
    this.maxQueueRecords = settings.maxQueueRecords;
    this.maxQueueBytes = settings.maxQueueBytes;
    this.window = settings.groupCommitRecords;
    this.writeTimeoutMs = settings.writeTimeoutMs;
    const reopen = options.store.reopenOptions?.();
    if (!reopen) throw new TypeError('AuditWriter: thread: the store cannot be opened again');
    const signer = options.checkpoints?.signer;
    const channel = new MessageChannel();
    this.logs = channel.port1;
    this.worker = startWorker({
      store: reopen,
      chainId: this.chainId,
      serviceName: options.serviceName ?? null,
      settings,
      signingKey: signer ? (signingKeyOf(signer) ?? null) : null,
      witnessDir: options.checkpoints?.witnessDir ?? null,
      witnessUrl: options.checkpoints?.witnessUrl ?? null,
      hasPrepare: options.prepare !== undefined,
      reportsCheckpoints: options.checkpoints?.onCheckpoint !== undefined,
      stats: this.shared.buffer,
      logs: channel.port2,
    });
    this.redactors = new ThreadRedactors((id, policy) =>
      this.post({ type: 'redactor', id, policy }),
    );
    this.worker.on('message', (message: FromWriterThread) => this.onMessage(message));
    this.worker.on('error', (error) => this.onThreadGone(error));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.onThreadGone(new Error(`the writer thread exited with code ${code}`));
    });
    this.logs.on('message', (line: ThreadLogLine) => this.logger[line.level](line.message));
    // Background delivery must not keep the process alive; a pending flush or shutdown does.
    // (After the listeners: adding a 'message' listener references the worker again.)
    this.worker.unref();
    this.logs.unref();
  }

  enqueue(record: AuditRecord): void {
    this.received += 1;
    if (this.takeover) {
      this.takeover.core.enqueue(redactedHere(record));
      return;
    }
    if (this.closed) {
      this.drop(1, 'a record arrived after shutdown');
      return;
    }
    const text = this.encode(record);
    // Room within the bounds read before covers this record too (see `holdBack`).
    if ((this.headroom <= 1 || this.byteHeadroom < text.length) && !this.admit(text.length)) {
      this.drop(1, 'memory bound reached twice over and the writer thread makes no room');
      return;
    }
    this.byteHeadroom -= text.length;
    this.pendingBytes += text.length;
    this.pending.push(text);
    if (this.pending.length >= TRANSFER_RECORDS) this.send();
    else if (!this.sendScheduled) {
      this.sendScheduled = true;
      queueMicrotask(() => this.send());
    }
    this.holdBack();
  }

  /**
   * Waits, on this thread, while (journal-first) more records than one group commit are not yet
   * durable, or while records the thread has not taken yet would put memory past its bound (the
   * hard limit, twice the bound, while the journal refuses): what the inline writer bounds by
   * doing the group commit or the spill on the caller's turn. A thread that stops answering is
   * not waited for again until it publishes anew.
   */
  private holdBack(): void {
    // The thread only ever moves the bounds away (it takes, journals, writes): room measured on
    // an older snapshot is still there, so the shared counters are read once per stretch of it.
    this.headroom -= 1;
    if (this.headroom > 0) return;
    let snapshot = this.shared.read();
    this.threadBehind = this.isBehind(snapshot);
    if (!this.mustWait(snapshot)) {
      this.headroom = this.roomIn(snapshot);
      this.byteHeadroom = this.byteRoomIn(snapshot);
      return;
    }
    this.threadBehind = true;
    this.send();
    const limitMs = this.shared.version() === 0 ? STARTUP_WAIT_MS : MAX_WAIT_MS;
    const deadline = Date.now() + limitMs;
    for (;;) {
      const version = this.shared.version();
      if (version === this.stalledAt) return;
      snapshot = this.shared.read();
      if (!this.mustWait(snapshot)) return;
      this.printLogs();
      const left = deadline - Date.now();
      if (left <= 0 || !this.shared.waitForNewer(version, left)) {
        this.stalledAt = this.shared.version();
        this.logger.warn(
          `the writer thread did not catch up within ${limitMs} ms; continuing without waiting for it`,
        );
        return;
      }
    }
  }

  /**
   * Whether the record just counted fits within the hard limit (twice the memory bound), counting
   * what the thread holds and what is on its way there. Past it, this waits (bounded, as
   * `holdBack`) until the thread has taken what was sent; then the thread's own rule decides: a
   * journal that accepts takes the record (the thread spills), one that refuses means the record
   * is dropped here, as the thread would drop it. A thread that stops answering makes no room:
   * the record is dropped, never held beyond the limit on this side.
   */
  private admit(bytes: number): boolean {
    const hard = this.maxQueueRecords * 2;
    const limitMs = this.shared.version() === 0 ? STARTUP_WAIT_MS : MAX_WAIT_MS;
    const deadline = Date.now() + limitMs;
    for (;;) {
      const version = this.shared.version();
      const s = this.shared.read();
      this.byteHeadroom = this.byteRoomIn(s);
      const recordsFit = this.received - this.droppedHere - s.received + s.queueDepth <= hard;
      if (recordsFit && bytes <= this.byteHeadroom) return true;
      if (this.pending.length === 0 && this.sent === s.received) return s.journalWritable;
      if (version === this.stalledAt) return false;
      this.send();
      this.printLogs();
      const left = deadline - Date.now();
      if (left <= 0 || !this.shared.waitForNewer(version, left)) {
        this.stalledAt = this.shared.version();
        this.logger.warn(
          `the writer thread did not catch up within ${limitMs} ms; records past the memory bound are dropped until it does`,
        );
        return false;
      }
    }
  }

  /** How many more records fit within the bounds of `s`; at most a quarter window, at least one. */
  private roomIn(s: ThreadSnapshot): number {
    const held = this.received - this.droppedHere;
    let room = Math.floor(this.window / 4);
    if (s.journalAccepting) room = Math.min(room, this.window - (held - s.accepted - s.dropped));
    const limit = s.journalWritable ? this.maxQueueRecords : this.maxQueueRecords * 2;
    room = Math.min(room, limit - (held - s.received + s.queueDepth));
    return Math.max(1, room);
  }

  /**
   * Bytes that fit within the hard limit (twice `maxQueueBytes`) beside what the thread holds and
   * what is on its way there; the thread spills to stay within the bound itself.
   */
  private byteRoomIn(s: ThreadSnapshot): number {
    return this.maxQueueBytes * 2 - s.queueBytes - this.bytesInTransit(s);
  }

  /** Characters of the records handed over that the thread has not taken yet. */
  private bytesInTransit(s: ThreadSnapshot): number {
    let bytes = this.pendingBytes;
    for (const batch of this.unconsumed) if (batch.end > s.received) bytes += batch.text.length;
    return bytes;
  }

  /** Half the way to a wait: half a window not durable, or two messages not yet taken. */
  private isBehind(s: ThreadSnapshot): boolean {
    const held = this.received - this.droppedHere;
    if (s.journalAccepting && held - s.accepted - s.dropped > this.window / 2) return true;
    return held - s.received > 2 * TRANSFER_RECORDS;
  }

  private mustWait(s: ThreadSnapshot): boolean {
    const notDurable = this.received - this.droppedHere - s.accepted - s.dropped;
    if (s.journalAccepting && notDurable > this.window) return true;
    const inTransit = this.received - this.droppedHere - s.received;
    if (inTransit === 0) return false;
    const limit = s.journalWritable ? this.maxQueueRecords : this.maxQueueRecords * 2;
    const byteLimit = s.journalWritable ? this.maxQueueBytes : this.maxQueueBytes * 2;
    return inTransit + s.queueDepth > limit || this.bytesInTransit(s) + s.queueBytes > byteLimit;
  }

  private send(): void {
    this.sendScheduled = false;
    if (this.pending.length === 0 || this.takeover) return;
    const text = `[${this.pending.join(',')}]`;
    const count = this.pending.length;
    this.sent += count;
    this.pending = [];
    this.pendingBytes = 0;
    this.unconsumed.push({ end: this.sent, count, text });
    const taken = this.shared.read().received;
    while ((this.unconsumed[0]?.end ?? Number.POSITIVE_INFINITY) <= taken) this.unconsumed.shift();
    this.post({ type: 'records', text });
  }

  async flush(): Promise<void> {
    if (this.takeover) return this.takeover.core.flush();
    // After shutdown nothing is held: late records were dropped (and counted).
    if (this.closed) return;
    // Nothing sent, nothing held there: return at once, as the inline writer does (a flush on
    // `beforeExit` must not keep an idle process alive).
    const s = this.shared.read();
    if (this.pending.length === 0 && this.received - this.droppedHere === s.received && s.idle)
      return;
    this.send();
    await this.request((id) => ({ type: 'flush', id }));
    if (this.takeover) await (this.takeover as { core: WriterCore }).core.flush();
  }

  async shutdown(options: { deadlineMs?: number } = {}): Promise<void> {
    if (this.takeover) return this.takeover.core.shutdown(options);
    if (this.closed) return;
    const deadlineMs = options.deadlineMs ?? 10_000;
    this.send();
    const done = this.request((id) => ({ type: 'shutdown', id, deadlineMs }));
    // The thread's own shutdown may pass its deadline by a hung statement's timeout and the time
    // its connections take to close; only a thread that takes longer still is given up on.
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<'stuck'>((resolve) => {
      timer = setTimeout(
        () => resolve('stuck'),
        deadlineMs + this.writeTimeoutMs + SHUTDOWN_GRACE_MS,
      );
    });
    const outcome = await Promise.race([done, stuck]);
    clearTimeout(timer);
    if (this.takeover) return (this.takeover as { core: WriterCore }).core.shutdown(options);
    if (outcome === 'stuck') this.persistOrCount('the writer thread did not finish its shutdown');
    this.closed = true;
    // An unreferenced worker's exit would not keep this process alive long enough to see it.
    this.worker.ref();
    await this.worker.terminate();
    this.printLogs();
    this.logs.close();
  }

  stats(): WriterStats {
    this.printLogs();
    if (this.takeover) {
      const here = this.takeover.core.stats();
      const before = this.takeover.final;
      const sum = (key: keyof ThreadSnapshot & keyof WriterStats) =>
        (before[key] as number) + (here[key] as number);
      return {
        ...here,
        chainId: this.chainId,
        received: this.received,
        accepted: sum('accepted'),
        written: sum('written'),
        duplicates: sum('duplicates'),
        journaled: sum('journaled'),
        replayed: sum('replayed'),
        poisoned: sum('poisoned'),
        dropped: sum('dropped') + this.droppedHere,
        corruptJournalLines: sum('corruptJournalLines'),
        quarantinedJournalLines: sum('quarantinedJournalLines'),
        foreignJournals: sum('foreignJournals'),
        journalFailures: sum('journalFailures'),
        failedWrites: sum('failedWrites'),
        checkpoints: sum('checkpoints'),
        collisions: sum('collisions'),
      };
    }
    const s = this.shared.read();
    const inTransit = this.received - this.droppedHere - s.received;
    const { journalAccepting: _, journalWritable: __, idle: ___, ...counters } = s;
    return {
      ...counters,
      chainId: this.chainId,
      received: this.received,
      dropped: s.dropped + this.droppedHere,
      queueDepth: s.queueDepth + inTransit,
      queueBytes: s.queueBytes + this.bytesInTransit(s),
    };
  }

  /**
   * For `process.on('exit')`: hands the thread what it has not received yet and waits (blocking
   * this thread, at most EXIT_WAIT_MS) until it has journaled everything it holds.
   */
  persistBeforeExit(): void {
    if (this.takeover) {
      this.takeover.core.persistBeforeExit();
      return;
    }
    if (this.closed) return;
    this.persistOrCount('the process exited');
  }

  /**
   * Hands the thread what it has not received and waits (blocking, at most EXIT_WAIT_MS) until it
   * has journaled everything it holds; what is still not durable then is counted as dropped.
   */
  private persistOrCount(why: string): void {
    this.send();
    this.post({ type: 'persist' });
    if (this.shared.waitPersisted(EXIT_WAIT_MS)) return;
    const s = this.shared.read();
    const lost = this.received - this.droppedHere - s.accepted - s.dropped;
    if (lost > 0)
      this.drop(lost, `${why} and the writer thread did not journal within ${EXIT_WAIT_MS} ms`);
  }

  private request(message: (id: number) => ToWriterThread): Promise<void> {
    const id = this.nextRequest++;
    const settled = new Promise<void>((resolve) => this.requests.set(id, resolve));
    this.worker.ref();
    this.post(message(id));
    return settled;
  }

  private settle(id: number): void {
    // Lines the thread logged before it answered are printed before the caller goes on.
    this.printLogs();
    const resolve = this.requests.get(id);
    if (!resolve) return;
    this.requests.delete(id);
    if (this.requests.size === 0) this.worker.unref();
    resolve();
  }

  private post(message: ToWriterThread): void {
    try {
      this.worker.postMessage(message);
    } catch (error) {
      this.onThreadGone(error);
    }
  }

  private onMessage(message: FromWriterThread): void {
    switch (message.type) {
      case 'done':
        this.settle(message.id);
        break;
      case 'checkpoint':
        try {
          this.options.checkpoints?.onCheckpoint?.(message.checkpoint);
        } catch (error) {
          this.logger.warn(`the onCheckpoint callback threw: ${describeError(error)}`);
        }
        break;
      case 'prepare':
        void this.prepareFor(message.id);
        break;
      case 'redactionFailures':
        this.redactors.creditFailures(message.failures);
        break;
    }
  }

  /** Runs the caller's `prepare` (migrations) here, for the thread's first write. */
  private async prepareFor(id: number): Promise<void> {
    let error: { message: string; code?: string } | null = null;
    try {
      await this.options.prepare?.();
    } catch (caught) {
      const code = isConnectionError(caught)
        ? 'CONNECTION_CLOSED'
        : ((caught as { code?: unknown })?.code as string | undefined);
      error = { message: describeError(caught), ...(typeof code === 'string' && { code }) };
    }
    this.post({ type: 'prepared', id, error });
  }

  /** The thread died: a core on this thread takes over (see the class comment). */
  private onThreadGone(error: unknown): void {
    if (this.takeover || this.closed) return;
    const final = this.shared.read();
    this.logger.error(
      `the writer thread failed (${describeError(error)}); delivering on the calling thread from now on, under a new chain (what the thread had journaled replays at the next start)`,
    );
    const core = new WriterCore({ ...this.options, chainId: randomUUID(), thread: 'inline' });
    this.takeover = { final, core };
    const lost = final.received - final.accepted - final.dropped;
    if (lost > 0)
      this.drop(lost, 'the writer thread failed before these records were journaled or written');
    // What the thread never took is delivered here, oldest first.
    for (const batch of this.unconsumed) {
      let index = batch.end - batch.count;
      for (const entry of JSON.parse(batch.text) as unknown[]) {
        if (index++ >= final.received) core.enqueue(this.redactors.decode(entry));
      }
    }
    for (const text of this.pending) core.enqueue(this.redactors.decode(JSON.parse(text)));
    this.unconsumed = [];
    this.pending = [];
    this.pendingBytes = 0;
    for (const [id, resolve] of this.requests) {
      this.requests.delete(id);
      resolve();
    }
  }

  /** What the thread logged so far, now: a caller reading stats sees the lines behind them. */
  private printLogs(): void {
    for (;;) {
      const received = receiveMessageOnPort(this.logs);
      if (received === undefined) return;
      const line = received.message as ThreadLogLine;
      this.logger[line.level](line.message);
    }
  }

  /**
   * A record as JSON for the trip to the writer thread, held values still to redact beside it
   * (see `ThreadRedactors`). One that JSON cannot carry (a BigInt or a cycle in its metadata)
   * travels with the reason instead, as the inline writer stores it.
   */
  private encode(record: AuditRecord): string {
    try {
      return JSON.stringify(this.redactors.prepare(record, this.threadBehind));
    } catch (error) {
      return JSON.stringify({
        ...record,
        metadata: { aitrailError: `metadata not serializable: ${describeError(error)}` },
      });
    }
  }

  private drop(count: number, reason: string): void {
    this.droppedHere += count;
    this.dropLogger.error(`DROPPED ${count} audit record(s): ${reason}`);
  }
}
