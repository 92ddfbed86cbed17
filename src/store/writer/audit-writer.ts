import { randomUUID } from 'node:crypto';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { AitrailError } from '../../errors.js';
import type { AuditRecord, CheckpointRecord, SealedAuditRecord } from '../audit-record.js';
import type { AuditStore } from '../audit-store.js';
import { canonicalJson } from '../canonical-json.js';
import { HashChain } from '../hash-chain.js';
import type { CheckpointSigner } from './checkpoint-signer.js';
import { CommitTracker } from './commit-tracker.js';
import { Journal, type JournalSegment } from './journal.js';
import { type AuditLogger, consoleLogger, rateLimited } from './logger.js';
import { degradePoisonRecord } from './poison.js';
import {
  classifyWriteError,
  describeError,
  isChainCollision,
  isConnectionError,
} from './write-errors.js';

export interface AuditWriterOptions {
  store: AuditStore;
  /** Stamped on checkpoints. */
  serviceName?: string | null;
  /** Default: a random UUID per writer instance. */
  chainId?: string;
  /** A store call that takes longer counts as failed and recycles the connections. Default 15 s. */
  writeTimeoutMs?: number;
  /** Insert statements in flight at once (each on its own connection). Default 2. */
  maxInFlight?: number;
  /** Records per insert statement. Default 1000. */
  batchSize?: number;
  /** Longest a record waits in memory before its batch is written. Default 100 ms. */
  flushIntervalMs?: number;
  /** Memory bound in records; beyond it records spill to the journal. Default 50,000. */
  maxQueueRecords?: number;
  /** Memory bound in bytes (estimated); beyond it records spill to the journal. Default 32 MiB. */
  maxQueueBytes?: number;
  /** Spill journal directory; `null` keeps everything in memory (bounded, then dropped loudly). */
  journalDir?: string | null;
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * Runs once before the first write, retried while the database is unreachable (e.g. applying
   * migrations when the app started during an outage). Other failures are logged, not fatal.
   */
  prepare?: () => Promise<void>;
  checkpoints?: {
    /** Rows between checkpoints. Default 10,000. */
    everyRecords?: number;
    /** Longest time between checkpoints while rows arrive. Default 60 s. */
    everyMs?: number;
    signer?: CheckpointSigner | null;
    /** Called after each stored checkpoint, e.g. to emit it as a span. */
    onCheckpoint?: (checkpoint: CheckpointRecord) => void;
  };
  logger?: AuditLogger;
}

/** Counters and gauges of the delivery pipeline. */
export interface WriterStats {
  chainId: string;
  received: number;
  written: number;
  /** Rows already present (replays, retries after an ambiguous commit): skipped, not duplicated. */
  duplicates: number;
  journaled: number;
  replayed: number;
  poisoned: number;
  dropped: number;
  corruptJournalLines: number;
  failedWrites: number;
  checkpoints: number;
  /** Records whose chain position another row had taken (tampering): kept in the dead-letter file. */
  collisions: number;
  queueDepth: number;
  queueBytes: number;
  /** Duration of the last successful insert statement. */
  lastWriteLatencyMs: number;
  lastSeq: number;
  committedThrough: number;
  databaseReachable: boolean;
}

interface QueuedRecord {
  record: AuditRecord;
  metadataJson: string;
  bytes: number;
}

type Work =
  | { kind: 'fresh'; batch: SealedAuditRecord[] }
  | { kind: 'backlog'; batch: SealedAuditRecord[] }
  | { kind: 'replay'; segment: JournalSegment };

type Attempt = 'ok' | 'transient';

const RECORD_OVERHEAD_BYTES = 600;
/** Past this multiple of the memory bound, with no journal to spill to, records are dropped. */
const HARD_LIMIT_FACTOR = 2;

/**
 * Batches audit records off the hot path into the store. One insert statement per batch
 * (COPY on Postgres), hash-chained before the first attempt, retried with backoff, spilled to
 * an fsynced journal when the database is down or slower than the producers, replayed in
 * order, and idempotent throughout (`ON CONFLICT (event_id) DO NOTHING`).
 */
export class AuditWriter {
  readonly chainId: string;
  private readonly store: AuditStore;
  /** Seals records; replaced by a fresh chain once a final checkpoint closed this one. */
  private chain: HashChain;
  private readonly commits: CommitTracker;
  private readonly journal: Journal | null;
  private readonly logger: AuditLogger;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueueRecords: number;
  private readonly maxQueueBytes: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly checkpointOptions: Required<
    Pick<NonNullable<AuditWriterOptions['checkpoints']>, 'everyRecords' | 'everyMs'>
  > &
    NonNullable<AuditWriterOptions['checkpoints']>;
  private readonly serviceName: string | null;
  private prepare: (() => Promise<void>) | null;
  private preparing: Promise<void> | null = null;
  private readonly maxInFlight: number;
  private readonly writeTimeoutMs: number;
  private checkpointing = false;

  private queue: QueuedRecord[] = [];
  private queueBytes = 0;
  private backlog: SealedAuditRecord[][] = [];
  /** Fresh batches whose insert is running, and those of them already copied to the journal. */
  private readonly inFlight = new Set<SealedAuditRecord[]>();
  private readonly journaledInFlight = new Set<SealedAuditRecord[]>();
  private pendingSegments: JournalSegment[] = [];
  private segmentsStale = true;
  private journalBroken = false;
  private healthy = true;
  private failures = 0;
  private running = false;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private idleWaiters: Array<() => void> = [];
  private lastCheckpointSeq = 0;
  private lastCheckpointAt = Date.now();
  private readonly counters = {
    received: 0,
    written: 0,
    duplicates: 0,
    journaled: 0,
    replayed: 0,
    poisoned: 0,
    dropped: 0,
    corruptJournalLines: 0,
    failedWrites: 0,
    checkpoints: 0,
    collisions: 0,
    lastWriteLatencyMs: 0,
  };

  constructor(options: AuditWriterOptions) {
    this.store = options.store;
    this.chainId = options.chainId ?? randomUUID();
    this.chain = new HashChain(this.chainId);
    this.commits = new CommitTracker(this.chainId);
    this.serviceName = options.serviceName ?? null;
    this.prepare = options.prepare ?? null;
    this.maxInFlight = positive('maxInFlight', options.maxInFlight ?? 2);
    this.writeTimeoutMs = positive('writeTimeoutMs', options.writeTimeoutMs ?? 15_000);
    this.batchSize = positive('batchSize', options.batchSize ?? 1000);
    this.flushIntervalMs = positive('flushIntervalMs', options.flushIntervalMs ?? 100);
    this.maxQueueRecords = positive('maxQueueRecords', options.maxQueueRecords ?? 50_000);
    this.maxQueueBytes = positive('maxQueueBytes', options.maxQueueBytes ?? 32 * 1024 * 1024);
    this.retryInitialMs = positive('retry.initialDelayMs', options.retry?.initialDelayMs ?? 50);
    this.retryMaxMs = positive('retry.maxDelayMs', options.retry?.maxDelayMs ?? 5_000);
    this.checkpointOptions = {
      ...options.checkpoints,
      everyRecords: positive(
        'checkpoints.everyRecords',
        options.checkpoints?.everyRecords ?? 10_000,
      ),
      everyMs: positive('checkpoints.everyMs', options.checkpoints?.everyMs ?? 60_000),
    };
    this.logger = rateLimited(options.logger ?? consoleLogger);
    this.journal = options.journalDir ? new Journal(options.journalDir, this.chainId) : null;
    // Journals left by writers that died on this host replay as soon as the database answers.
    if (this.journal) this.schedule(0);
  }

  /** Accepts a record. Never throws, never waits on I/O unless memory is past its bound. */
  enqueue(record: AuditRecord): void {
    this.counters.received += 1;
    let metadataJson: string;
    try {
      metadataJson = canonicalJson(record.metadata);
    } catch (error) {
      metadataJson = canonicalJson({
        aitrailError: `metadata not serializable: ${describeError(error)}`,
      });
    }
    const bytes = RECORD_OVERHEAD_BYTES + metadataJson.length;
    if (this.closed && !this.journal) {
      this.drop(1, 'a record arrived after shutdown and there is no journal to hold it');
      return;
    }
    this.queue.push({ record, metadataJson, bytes });
    this.queueBytes += bytes;
    if (this.overBound()) this.spill();
    if (this.closed) {
      this.spillAll();
      return;
    }
    this.schedule(this.queue.length >= this.batchSize ? 0 : this.flushIntervalMs);
  }

  /**
   * Resolves once every record accepted so far is committed to the database, or, while the
   * database is unreachable, fsynced to the journal.
   */
  async flush(): Promise<void> {
    if (!this.running && this.isIdle()) return;
    const settled = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    // While the database is down, durable means journaled: settle now rather than retry early.
    if (this.healthy) this.schedule(0);
    else this.settleIdleWaitersIfDurable();
    await settled;
  }

  /**
   * Drains within `deadlineMs`; whatever is still in memory then goes to the journal. Writes a
   * final checkpoint when the database is reachable. The store stays open (its owner closes it).
   */
  async shutdown(options: { deadlineMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    const deadlineMs = options.deadlineMs ?? 10_000;
    let timedOut = false;
    const deadline = new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timedOut = true;
        resolve();
      }, deadlineMs);
      t.unref();
    });
    let stopped = false;
    await Promise.race([this.deliverEverything(() => stopped), deadline]);
    stopped = true;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    if (timedOut) {
      this.spillAll();
      const held = this.queue.length + this.backlog.reduce((n, b) => n + b.length, 0);
      if (held > 0) {
        this.drop(
          held,
          `shutdown deadline of ${deadlineMs} ms passed with the database unreachable and no journal`,
        );
        this.queue = [];
        this.queueBytes = 0;
        this.backlog = [];
      }
    } else if (this.healthy) {
      await this.writeCheckpoint(true);
    }
    this.journal?.close();
  }

  /**
   * Shutdown's drain: unlike `flush`, it keeps trying the database (journal included) until
   * everything is committed, cutting backoffs short every quarter second.
   */
  private async deliverEverything(stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      if (this.healthy && !this.running && this.isIdle()) return;
      if (this.running) this.wake?.();
      else this.schedule(0);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  stats(): WriterStats {
    return {
      chainId: this.chainId,
      ...this.counters,
      queueDepth: this.queue.length + this.backlog.reduce((n, b) => n + b.length, 0),
      queueBytes: this.queueBytes,
      lastSeq: this.chain.lastSeq,
      committedThrough: this.commits.committedThrough.seq,
      databaseReachable: this.healthy,
    };
  }

  /** Nothing in memory, and nothing journaled that a reachable database still lacks. */
  private isIdle(): boolean {
    if (this.queue.length > 0 || this.backlog.length > 0) return false;
    return !this.healthy || this.refreshSegments().length === 0;
  }

  private schedule(delayMs: number): void {
    if (this.running) {
      // New records never cut a backoff short: that would turn retries into a busy loop.
      if (delayMs === 0 && this.healthy) this.wake?.();
      return;
    }
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, delayMs);
    // Background batching must not keep the process alive; a pending flush must.
    if (this.idleWaiters.length === 0) this.timer.unref();
  }

  /**
   * The delivery loop. Fresh batches overlap, up to `maxInFlight`: the next one is sealed and
   * encoded while the database writes the previous one. Journal replays and held batches go
   * alone, in order. A transient failure stops new work, lets what is in flight finish, then
   * backs off.
   */
  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const inFlight = new Set<Promise<void>>();
    let failed = false;
    const start = (work: Work) => {
      const task: Promise<void> = this.perform(work).then(async (result) => {
        inFlight.delete(task);
        if (result === 'transient') {
          failed = true;
          this.healthy = false;
          return;
        }
        if (!this.healthy) this.logger.warn('database reachable again; replaying held records');
        this.healthy = true;
        this.failures = 0;
        await this.maybeCheckpoint();
      });
      inFlight.add(task);
    };
    try {
      for (;;) {
        while (!failed && inFlight.size < this.maxInFlight) {
          const work = inFlight.size === 0 ? this.nextWork() : this.nextFreshWork();
          if (!work) break;
          start(work);
          if (work.kind !== 'fresh') break;
        }
        if (inFlight.size > 0) {
          await Promise.race(inFlight);
          continue;
        }
        if (!failed) break;
        failed = false;
        this.settleIdleWaitersIfDurable();
        if (this.closed) break;
        await this.backoff();
        if (this.closed) break;
      }
    } finally {
      this.running = false;
      this.settleIdleWaitersIfDurable();
      if (!this.closed && this.queue.length > 0) this.schedule(this.flushIntervalMs);
    }
  }

  private nextWork(): Work | null {
    const segment = this.refreshSegments()[0];
    if (segment) return { kind: 'replay', segment };
    const held = this.backlog[0];
    if (held) return { kind: 'backlog', batch: held };
    return this.nextFreshWork();
  }

  /** A fresh batch, only when nothing older (journal, held batches) is waiting. */
  private nextFreshWork(): Work | null {
    if (this.queue.length === 0 || this.closed) return null;
    if (this.backlog.length > 0 || this.refreshSegments().length > 0) return null;
    return { kind: 'fresh', batch: this.sealNext() };
  }

  private refreshSegments(): JournalSegment[] {
    if (this.journal && this.segmentsStale) {
      this.pendingSegments = this.journal.pendingSegments();
      this.segmentsStale = false;
    }
    return this.pendingSegments;
  }

  private sealNext(): SealedAuditRecord[] {
    const taken = this.queue.splice(0, this.batchSize);
    const batch: SealedAuditRecord[] = new Array(taken.length);
    for (let i = 0; i < taken.length; i++) {
      const item = taken[i] as QueuedRecord;
      this.queueBytes -= item.bytes;
      batch[i] = this.chain.seal(item.record, item.metadataJson);
    }
    return batch;
  }

  private async perform(work: Work): Promise<Attempt> {
    switch (work.kind) {
      case 'fresh': {
        this.inFlight.add(work.batch);
        try {
          const result = await this.write(work.batch);
          if (result === 'transient' && !this.journaledInFlight.has(work.batch))
            this.hold(work.batch);
          return result;
        } finally {
          this.inFlight.delete(work.batch);
          this.journaledInFlight.delete(work.batch);
        }
      }
      case 'backlog': {
        const result = await this.write(work.batch);
        if (result === 'ok') this.backlog.shift();
        return result;
      }
      case 'replay':
        return this.replay(work.segment);
    }
  }

  /** Keeps a sealed batch that could not be written: on disk when possible, else in memory. */
  private hold(batch: SealedAuditRecord[]): void {
    if (this.appendToJournal(batch)) return;
    this.backlog.push(batch);
  }

  /**
   * Journals a sealed batch together with the batches still in flight, in chain order: if the
   * process dies before those commit, the journal holds them too, so a later batch can never
   * survive a crash that an earlier one did not (no gap in the chain). Copies of batches that
   * did commit replay as duplicates, which the insert skips.
   */
  private appendToJournal(batch: SealedAuditRecord[]): boolean {
    if (!this.journal || this.journalBroken) return false;
    try {
      const pending = [...this.inFlight].filter(
        (b) => b !== batch && !this.journaledInFlight.has(b),
      );
      for (const held of [...pending, batch].sort((a, b) => firstSeq(a) - firstSeq(b))) {
        this.journal.append(held);
        this.counters.journaled += held.length;
        if (held !== batch) this.journaledInFlight.add(held);
      }
      this.segmentsStale = true;
      return true;
    } catch (error) {
      this.journalBroken = true;
      this.logger.error(
        `journal write failed, holding records in memory instead: ${describeError(error)}`,
      );
      return false;
    }
  }

  private async replay(segment: JournalSegment): Promise<Attempt> {
    let contents: ReturnType<Journal['read']>;
    try {
      contents = (this.journal as Journal).read(segment);
    } catch (error) {
      this.logger.error(`cannot read journal segment ${segment.path}: ${describeError(error)}`);
      this.pendingSegments = this.pendingSegments.filter((s) => s !== segment);
      return 'ok';
    }
    for (let i = 0; i < contents.records.length; i += this.batchSize) {
      const result = await this.write(contents.records.slice(i, i + this.batchSize));
      if (result === 'transient') return result;
    }
    if (contents.corruptLines > 0) {
      this.counters.corruptJournalLines += contents.corruptLines;
      this.logger.error(
        `journal segment ${segment.path} had ${contents.corruptLines} torn or corrupt line(s); skipped`,
      );
    }
    this.counters.replayed += contents.records.length;
    (this.journal as Journal).remove(segment);
    this.segmentsStale = true;
    return 'ok';
  }

  /** One insert statement; rejected data is isolated, transient failures are reported upward. */
  private async write(batch: SealedAuditRecord[]): Promise<Attempt> {
    const started = performance.now();
    try {
      const inserted = await this.guarded(async () => {
        await this.ensurePrepared();
        return this.store.insertRecords(batch);
      });
      this.counters.lastWriteLatencyMs = performance.now() - started;
      this.committed(batch, inserted);
      return 'ok';
    } catch (error) {
      this.counters.failedWrites += 1;
      if (classifyWriteError(error) === 'rejected') return this.isolateRejected(batch, error);
      this.failures += 1;
      this.logger.warn(
        `writing ${batch.length} audit record(s) failed (attempt ${this.failures}), will retry: ${describeError(error)}`,
      );
      return 'transient';
    }
  }

  /**
   * Store I/O, untraced and with a deadline: a statement that neither succeeds nor fails in
   * `writeTimeoutMs` counts as a transient failure, and the store's connections are recycled
   * (a driver can be left with a connection that never flushes after a dropped socket). The
   * abandoned attempt may still commit; the retry's `ON CONFLICT DO NOTHING` absorbs that.
   */
  private async guarded<T>(io: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void this.store.recycle?.().catch(() => {});
        reject(
          new AitrailError(
            'WRITE_TIMEOUT',
            `no answer from the database within ${this.writeTimeoutMs} ms (delivery.writeTimeoutMs)`,
          ),
        );
      }, this.writeTimeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([withoutTracing(io), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs `prepare` once; concurrent first writes share the same attempt. */
  private async ensurePrepared(): Promise<void> {
    if (this.prepare === null) return;
    const prepare = this.prepare;
    this.preparing ??= prepare().finally(() => {
      this.preparing = null;
    });
    try {
      await this.preparing;
    } catch (error) {
      if (isConnectionError(error)) throw error;
      this.logger.error(`preparing the store failed; writing anyway: ${describeError(error)}`);
    }
    this.prepare = null;
  }

  /** Splits a rejected batch until the poison record is alone, then stores it degraded. */
  private async isolateRejected(batch: SealedAuditRecord[], error: unknown): Promise<Attempt> {
    if (batch.length === 1) {
      const poison = batch[0] as SealedAuditRecord;
      if (isChainCollision(error)) return this.keepCollided(poison);
      const degraded = degradePoisonRecord(poison, describeError(error));
      try {
        const inserted = await this.guarded(() => this.store.insertRecords([degraded]));
        this.committed([degraded], inserted);
        this.counters.poisoned += 1;
        this.logger.error(
          `audit record ${poison.eventId} was rejected by the database and stored degraded: ${describeError(error)}`,
        );
        return 'ok';
      } catch (second) {
        if (classifyWriteError(second) === 'transient') return 'transient';
        this.drop(
          1,
          `audit record ${poison.eventId} was rejected even in degraded form: ${describeError(second)}`,
        );
        return 'ok';
      }
    }
    const middle = Math.ceil(batch.length / 2);
    for (const half of [batch.slice(0, middle), batch.slice(middle)]) {
      const result = await this.write(half);
      if (result === 'transient') return result;
    }
    return 'ok';
  }

  /**
   * Another row already holds this record's place in the chain: someone inserted into this
   * writer's chain. The record cannot be stored without breaking the chain further, so it is
   * kept in the journal's dead-letter file as evidence, and reported; `verify` shows the forged
   * neighbour as a broken link at the writer's next row.
   */
  private keepCollided(record: SealedAuditRecord): Attempt {
    this.counters.collisions += 1;
    const kept = this.journal?.deadLetter([record]) ?? false;
    const where = kept ? 'kept in the journal dead-letter file' : 'LOST: no journal to keep it';
    this.logger.error(
      `chain ${record.chainId} seq ${record.chainSeq} is already taken by a row this writer did not write (possible tampering); audit record ${record.eventId} ${where}`,
    );
    if (!kept) this.counters.dropped += 1;
    return 'ok';
  }

  private committed(batch: SealedAuditRecord[], inserted: number): void {
    this.counters.written += inserted;
    this.counters.duplicates += batch.length - inserted;
    this.commits.markCommitted(batch);
  }

  private overBound(): boolean {
    return this.queue.length > this.maxQueueRecords || this.queueBytes > this.maxQueueBytes;
  }

  /** Moves the oldest half of memory to the journal; drops only when there is nowhere to go. */
  private spill(): void {
    const target = Math.floor(this.maxQueueRecords / 2);
    const targetBytes = Math.floor(this.maxQueueBytes / 2);
    while (this.queue.length > 0 && (this.queue.length > target || this.queueBytes > targetBytes)) {
      const batch = this.sealNext();
      if (this.appendToJournal(batch)) continue;
      this.backlog.push(batch);
      break;
    }
    const heldBytes =
      this.queueBytes + this.backlog.reduce((n, b) => n + b.length * RECORD_OVERHEAD_BYTES, 0);
    const heldRecords = this.queue.length + this.backlog.reduce((n, b) => n + b.length, 0);
    if (
      heldRecords > this.maxQueueRecords * HARD_LIMIT_FACTOR ||
      heldBytes > this.maxQueueBytes * HARD_LIMIT_FACTOR
    ) {
      const excess = this.queue.splice(0, this.queue.length);
      for (const item of excess) this.queueBytes -= item.bytes;
      this.drop(excess.length, 'memory bound reached twice over and the journal is unavailable');
    }
    this.schedule(0);
  }

  private spillAll(): void {
    while (this.queue.length > 0) {
      const batch = this.sealNext();
      if (!this.appendToJournal(batch)) {
        this.backlog.push(batch);
      }
    }
    const held = this.backlog.splice(0, this.backlog.length);
    for (const batch of held) if (!this.appendToJournal(batch)) this.backlog.push(batch);
  }

  /**
   * For `process.on('exit')`, where nothing asynchronous runs any more: everything still in
   * memory, in-flight batches included, goes to the journal synchronously, for the next start
   * to replay. What cannot be journaled is reported as dropped.
   */
  persistBeforeExit(): void {
    if (this.queue.length === 0 && this.backlog.length === 0 && this.inFlight.size === 0) return;
    for (const batch of this.inFlight) {
      if (!this.journaledInFlight.has(batch) && this.appendToJournal(batch))
        this.journaledInFlight.add(batch);
    }
    this.spillAll();
    const held = this.backlog.reduce((n, b) => n + b.length, 0);
    if (held > 0)
      this.drop(held, 'the process exited with records in memory and no journal to hold them');
  }

  private drop(count: number, reason: string): void {
    this.counters.dropped += count;
    this.logger.error(
      `DROPPED ${count} audit record(s) (${this.counters.dropped} in total): ${reason}`,
    );
  }

  /**
   * Flush waiters settle once everything is durable: committed, or (while the database is
   * unreachable) fsynced to the journal.
   */
  private settleIdleWaitersIfDurable(): void {
    if (this.idleWaiters.length === 0) return;
    if (!this.healthy) this.spillAll();
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async backoff(): Promise<void> {
    const exp = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** Math.min(this.failures, 20));
    const delay = exp / 2 + Math.random() * (exp / 2);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, delay);
      // Retrying alone must not keep a finished process alive (its records are journaled).
      if (this.idleWaiters.length === 0) t.unref();
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wake = null;
  }

  private async maybeCheckpoint(): Promise<void> {
    if (this.checkpointing) return;
    const through = this.commits.committedThrough.seq;
    if (through <= this.lastCheckpointSeq) return;
    const due =
      through - this.lastCheckpointSeq >= this.checkpointOptions.everyRecords ||
      Date.now() - this.lastCheckpointAt >= this.checkpointOptions.everyMs;
    if (!due) return;
    this.checkpointing = true;
    try {
      await this.writeCheckpoint(false);
    } finally {
      this.checkpointing = false;
    }
  }

  /**
   * Stores a checkpoint of the committed head. `final` (at a clean shutdown, everything sealed
   * committed) closes the chain: verify then treats any later row as forged, and records that
   * still arrive are sealed into a fresh chain.
   */
  private async writeCheckpoint(final: boolean): Promise<void> {
    const { seq, hash } = this.commits.committedThrough;
    if (hash === null) return;
    const closesChain = final && seq === this.chain.lastSeq;
    if (seq <= this.lastCheckpointSeq && !closesChain) return;
    const signer = this.checkpointOptions.signer ?? null;
    const unsigned: Omit<CheckpointRecord, 'signature'> = {
      chainId: this.chainId,
      chainSeq: seq,
      headHash: hash,
      createdAt: new Date().toISOString(),
      serviceName: this.serviceName,
      algorithm: signer ? signer.algorithm : 'none',
      keyId: signer ? signer.keyId : null,
      final: closesChain,
    };
    const checkpoint: CheckpointRecord = {
      ...unsigned,
      signature: signer ? signer.sign(unsigned) : null,
    };
    try {
      await this.guarded(() => this.store.insertCheckpoint(checkpoint));
    } catch (error) {
      const when = final ? 'at shutdown' : 'periodically';
      this.logger.warn(`storing a checkpoint ${when} failed: ${describeError(error)}`);
      return;
    }
    this.lastCheckpointSeq = seq;
    this.lastCheckpointAt = Date.now();
    this.counters.checkpoints += 1;
    if (closesChain) this.chain = new HashChain(randomUUID());
    try {
      this.checkpointOptions.onCheckpoint?.(checkpoint);
    } catch (error) {
      this.logger.warn(`the onCheckpoint callback threw: ${describeError(error)}`);
    }
  }
}

function withoutTracing<T>(fn: () => Promise<T>): Promise<T> {
  return context.with(suppressTracing(context.active()), fn);
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`AuditWriter: ${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

function firstSeq(batch: readonly SealedAuditRecord[]): number {
  return batch[0]?.chainSeq ?? 0;
}
