import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { AuditRecord, CheckpointRecord, SealedAuditRecord } from '../audit-record.js';
import type { AuditStore, WriterStore } from '../audit-store.js';
import { canonicalJson } from '../canonical-json.js';
import { type PersonalValues, splitPersonalData } from '../erasure/personal-fields.js';
import { HashChain } from '../hash-chain.js';
import { DirectoryWitness, HttpWitness, type TreeHeadWitness } from '../merkle/witness.js';
import { CheckpointPublisher } from './checkpoint-publisher.js';
import type { CheckpointSigner } from './checkpoint-signer.js';
import { CommitTracker } from './commit-tracker.js';
import { describeDatabase, readDatabaseIdentity } from './database-identity.js';
import { Journal, type JournalSegment } from './journal.js';
import { foreignJournals, storeJournalRoot } from './journal-binding.js';
import { type AuditLogger, consoleLogger, rateLimited } from './logger.js';
import { degradePoisonRecord } from './poison.js';
import { RandomPool } from './random-pool.js';
import {
  classifyWriteError,
  describeError,
  isChainCollision,
  isConnectionError,
} from './write-errors.js';
import { resolveWriterSettings } from './writer-settings.js';

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
  /**
   * Journal directory. Default: `<AITRAIL_DATA_DIR or ./.aitrail>/journal`, so a writer (and the
   * building-block `AuditSpanProcessor` with only a `store`) never loses an outage's records
   * silently. `null` keeps everything in memory: bounded, then dropped, counted and logged.
   * Journals are kept per store below it (`<journalDir>/<store key>/<chain id>/`) and bound to
   * the database they were written for: another database's journal is reported, never replayed.
   */
  journalDir?: string | null;
  /**
   * When a record counts as accepted (see docs/delivery.md). `journal-first` (the default when
   * there is a journal): records are sealed and fsynced to the journal in groups, a few
   * milliseconds after they arrive, before they count as accepted; a SIGKILL loses at most the
   * group not yet committed. `memory-first`: records are journaled only when memory passes its
   * bound or the database fails; a SIGKILL loses what memory held. Default
   * `AITRAIL_DURABILITY`, else `journal-first`.
   */
  durability?: 'journal-first' | 'memory-first';
  /** journal-first: the longest a record waits for its group's fsync. Default 5 ms. */
  groupCommitMs?: number;
  /**
   * journal-first: a group is committed at once when it reaches this many records, even in a
   * synchronous burst that never yields to the timer. Default 1000.
   */
  groupCommitRecords?: number;
  /**
   * A dead writer's journal in another pid namespace (the previous life of a restarted
   * container) is taken over once its owner's heartbeat is this old. Default
   * `AITRAIL_JOURNAL_STALE_MS`, else 15 s.
   */
  journalStaleAfterMs?: number;
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
    /** Directory where every signed tree head is also appended (one fsynced JSON line per head). */
    witnessDir?: string | null;
    /** HTTP endpoint every signed tree head is also POSTed to, as JSON. */
    witnessUrl?: string | null;
  };
  logger?: AuditLogger;
  /**
   * Where sealing, journaling and delivery run. `auto` (default): on a worker thread of their own
   * when that buys a core (two or more CPUs), the store can be opened again there (Postgres), and
   * the checkpoint signer can be rebuilt there (`createCheckpointSigner`); otherwise on this
   * thread. `worker` insists (a `TypeError` when it cannot be done); `inline` stays here.
   * Default `AITRAIL_WRITER_THREAD`, else `auto`.
   */
  thread?: 'auto' | 'worker' | 'inline';
}

/**
 * What the engine takes: the public options, with only the writing half of a store (a writer
 * thread opens no more), and a hook for the thread that hosts it.
 */
export interface WriterCoreOptions extends Omit<AuditWriterOptions, 'store'> {
  store: WriterStore;
  /** Called after each step that moves a counter (a group commit, a write, a drop). */
  onProgress?: () => void;
}

/** Counters and gauges of the delivery pipeline. */
export interface WriterStats {
  chainId: string;
  received: number;
  /**
   * Records that became durable in this process: fsynced to the journal or committed to the
   * database, whichever came first. From then on no crash of this process loses them.
   */
  accepted: number;
  written: number;
  /** Rows already present (replays, retries after an ambiguous commit): skipped, not duplicated. */
  duplicates: number;
  journaled: number;
  replayed: number;
  poisoned: number;
  dropped: number;
  /** Journal lines skipped on replay: torn by a crash, or quarantined as malformed. */
  corruptJournalLines: number;
  /** Of those, lines with a valid checksum but not an audit record: moved to the dead-letter file. */
  quarantinedJournalLines: number;
  /** Journals found for another database (or in the unbound layout of older versions): left alone. */
  foreignJournals: number;
  /** Failed journal appends (disk full, quota, I/O error); the journal is retried on a later batch. */
  journalFailures: number;
  failedWrites: number;
  checkpoints: number;
  /** Records whose chain position another row had taken (tampering): kept in the dead-letter file. */
  collisions: number;
  /**
   * Records memory holds: not yet journaled (inserts in flight included) or journaled copies
   * waiting for delivery. At most twice `maxQueueRecords` while the journal refuses writes.
   */
  queueDepth: number;
  /** The estimated bytes of those records, bounded by twice `maxQueueBytes`. */
  queueBytes: number;
  /** Duration of the last successful insert statement. */
  lastWriteLatencyMs: number;
  lastSeq: number;
  committedThrough: number;
  databaseReachable: boolean;
}

interface QueuedRecord {
  /** The chained view: commitments in place of personal values. */
  record: AuditRecord;
  personal: PersonalValues;
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
/** Sorts after every segment path: replay all of this writer's own segments. */
const ALL_SEGMENTS = '\uffff';
/** After a failed append, the journal is tried again on the first batch after this pause. */
const JOURNAL_RETRY_MS = 250;

/**
 * The writer's engine, in whichever thread runs it (see `AuditWriter`): batches audit records
 * into the store. One insert statement per batch (COPY on Postgres), hash-chained before the
 * first attempt, retried with backoff, spilled to an fsynced journal when the database is down
 * or slower than the producers, replayed in order, and idempotent throughout
 * (`ON CONFLICT (event_id) DO NOTHING`).
 */
export class WriterCore {
  readonly chainId: string;
  private readonly store: WriterStore;
  /**
   * The chain records are sealed into, with its commit tracking and checkpoints: one value,
   * replaced as a whole once a final checkpoint closed the chain.
   */
  private active: ActiveChain;
  private readonly journal: Journal | null;
  private readonly logger: AuditLogger;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueueRecords: number;
  private readonly maxQueueBytes: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  /** Tree heads of every chain this writer seals: genesis, periodic, final; signed and witnessed. */
  private readonly checkpoints: CheckpointPublisher;
  private prepare: (() => Promise<void>) | null;
  private preparing: Promise<void> | null = null;
  private readonly maxInFlight: number;
  private readonly writeTimeoutMs: number;
  private readonly onProgress: () => void;
  /** The salts of personal-value commitments, from a pool. */
  private readonly random = new RandomPool();
  private readonly salts = (bytes: number) => this.random.hex(bytes);

  private queue: QueuedRecord[] = [];
  private queueBytes = 0;
  private backlog: SealedAuditRecord[][] = [];
  /** Fresh batches whose insert is running, and those of them already copied to the journal. */
  private readonly inFlight = new Set<SealedAuditRecord[]>();
  private readonly journaledInFlight = new Set<SealedAuditRecord[]>();
  /** journal-first: journaled batches waiting for delivery from memory (copies of the journal). */
  private ready: SealedAuditRecord[][] = [];
  private readyRecords = 0;
  /** Batches already in the journal or counted as accepted. */
  private readonly durableBatches = new WeakSet<SealedAuditRecord[]>();
  /**
   * journal-first: which of this writer's own segments replay from disk, because memory let go
   * of its copies: none (null), all (`ALL_SEGMENTS`, new groups then go to disk only), or those
   * up to and including the named one (the segment that was open when replay reached it; groups
   * committed after that have copies in memory again).
   */
  private replayOwnThrough: string | null = null;
  private readonly journalFirst: boolean;
  private readonly groupCommitMs: number;
  private readonly groupCommitRecords: number;
  private groupTimer: NodeJS.Timeout | null = null;
  private pendingSegments: JournalSegment[] = [];
  private segmentsStale = true;
  private lastSegmentScan = 0;
  /** While the disk refuses appends: no journal attempt before this time (0: journal writable). */
  private journalRetryAt = 0;
  private readonly journalStaleAfterMs: number;
  /** Segments whose malformed lines already went to the dead-letter file. */
  private readonly quarantined = new Set<string>();
  private databaseBound = false;
  private healthy = true;
  private failures = 0;
  private running = false;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private idleWaiters: Array<() => void> = [];
  private readonly counters = {
    received: 0,
    accepted: 0,
    written: 0,
    duplicates: 0,
    journaled: 0,
    replayed: 0,
    poisoned: 0,
    dropped: 0,
    corruptJournalLines: 0,
    quarantinedJournalLines: 0,
    foreignJournals: 0,
    journalFailures: 0,
    failedWrites: 0,
    collisions: 0,
    lastWriteLatencyMs: 0,
  };

  constructor(options: WriterCoreOptions) {
    this.store = options.store;
    this.onProgress = options.onProgress ?? (() => {});
    this.chainId = options.chainId ?? randomUUID();
    this.prepare = options.prepare ?? null;
    const settings = resolveWriterSettings(options);
    this.maxInFlight = settings.maxInFlight;
    this.writeTimeoutMs = settings.writeTimeoutMs;
    this.batchSize = settings.batchSize;
    this.flushIntervalMs = settings.flushIntervalMs;
    this.maxQueueRecords = settings.maxQueueRecords;
    this.maxQueueBytes = settings.maxQueueBytes;
    this.retryInitialMs = settings.retryInitialMs;
    this.retryMaxMs = settings.retryMaxMs;
    this.logger = rateLimited(options.logger ?? consoleLogger);
    const witnesses: TreeHeadWitness[] = [];
    if (options.checkpoints?.witnessDir)
      witnesses.push(new DirectoryWitness(options.checkpoints.witnessDir));
    if (options.checkpoints?.witnessUrl)
      witnesses.push(new HttpWitness(options.checkpoints.witnessUrl));
    this.checkpoints = new CheckpointPublisher({
      store: this.store,
      serviceName: options.serviceName ?? null,
      signer: options.checkpoints?.signer ?? null,
      everyRecords: settings.checkpointEveryRecords,
      everyMs: settings.checkpointEveryMs,
      witnesses,
      onCheckpoint: options.checkpoints?.onCheckpoint,
      logger: this.logger,
      guard: (io) => this.guarded(io),
    });
    this.active = this.startChain(this.chainId);
    this.journalStaleAfterMs = settings.journalStaleAfterMs;
    this.journal = settings.journalDir ? this.openJournal(settings.journalDir) : null;
    this.journalFirst = this.journal !== null && settings.durability === 'journal-first';
    this.groupCommitMs = settings.groupCommitMs;
    this.groupCommitRecords = settings.groupCommitRecords;
    // Journals left by writers that died on this host replay as soon as the database answers.
    if (this.journal) this.schedule(0);
  }

  private openJournal(journalDir: string): Journal {
    const location = this.store.location;
    const root = storeJournalRoot(journalDir, location);
    for (const foreign of foreignJournals(journalDir, root)) {
      this.counters.foreignJournals += 1;
      this.logger.error(
        foreign.location === null
          ? `journal folder ${foreign.dir} is not bound to any database (written by an older version); left alone: move it under ${root} to replay it into ${location}`
          : `journal folder ${foreign.dir} was written for ${foreign.location}, not ${location}; left alone (it replays when a writer for that store starts)`,
      );
    }
    return new Journal({
      root,
      chainId: this.chainId,
      location,
      deadLetterPath: join(journalDir, 'dead-letter.jnl'),
      staleAfterMs: this.journalStaleAfterMs,
      onForeignChain: (dir, bound) => {
        this.counters.foreignJournals += 1;
        const here = this.journal?.boundDatabase;
        this.logger.error(
          `journal folder ${dir} was written for ${describeDatabase(bound)}, but ${location} is ${here ? describeDatabase(here) : 'another database'}; left alone`,
        );
      },
    });
  }

  /** Accepts a record. Never throws, never waits on I/O unless memory is past its bound. */
  enqueue(record: AuditRecord): void {
    this.counters.received += 1;
    // Personal values leave the record here, before it is sealed: the chain covers commitments.
    let split: ReturnType<typeof splitPersonalData>;
    let metadataJson: string;
    try {
      split = splitPersonalData(record, this.salts);
      metadataJson = canonicalJson(split.chained.metadata);
    } catch (error) {
      split = splitPersonalData(
        {
          ...record,
          metadata: { aitrailError: `metadata not serializable: ${describeError(error)}` },
        },
        this.salts,
      );
      metadataJson = canonicalJson(split.chained.metadata);
    }
    const bytes = RECORD_OVERHEAD_BYTES + metadataJson.length;
    if (this.closed && !this.journal) {
      this.drop(1, 'a record arrived after shutdown and there is no journal to hold it');
      return;
    }
    if (!this.roomFor(bytes)) {
      this.drop(
        1,
        this.journal
          ? 'memory bound reached twice over while the journal refuses writes'
          : 'memory bound reached twice over and there is no journal',
      );
      return;
    }
    this.queue.push({ record: split.chained, personal: split.personal, metadataJson, bytes });
    this.queueBytes += bytes;
    if (this.journalFirst && !this.closed) {
      if (this.queue.length >= this.groupCommitRecords) this.groupCommit();
      else if (this.groupTimer === null) {
        this.groupTimer = setTimeout(() => this.groupCommit(), this.groupCommitMs);
        this.groupTimer.unref();
      }
    }
    if (this.overBound()) this.spill();
    if (this.closed) {
      this.spillAll();
      return;
    }
    this.schedule(this.pendingFresh() >= this.batchSize ? 0 : this.flushIntervalMs);
  }

  /** Records waiting for a fresh batch: journaled copies (journal-first) and the queue. */
  private pendingFresh(): number {
    return this.readyRecords + this.queue.length;
  }

  /**
   * journal-first: seals what the queue holds and appends it to the journal with one fsync;
   * only then do these records count as accepted. Runs on a timer `groupCommitMs` after the
   * first record of a group, or at once when a group reaches `groupCommitRecords`. While the
   * disk refuses, the records stay unsealed in the queue (delivered from memory, counted as
   * accepted once committed) and the journal is tried again on a later group.
   */
  private groupCommit(): void {
    if (this.groupTimer) clearTimeout(this.groupTimer);
    this.groupTimer = null;
    if (this.queue.length === 0) return;
    if (!this.journalWritable()) {
      // Called again within the pause after a failed append: the retry must stay armed, or a
      // journal that recovers is not noticed until another record arrives.
      this.retryGroupCommit(this.journalRetryAt - Date.now());
      return;
    }
    const chain = this.active.chain;
    const before = { seq: chain.lastSeq, head: chain.headHash };
    const taken = this.queue.slice();
    const batches: SealedAuditRecord[][] = [];
    while (this.queue.length > 0) batches.push(this.sealNext());
    try {
      this.journalInOrder(batches);
    } catch (error) {
      // Nothing of the group reached the disk: unseal it, so that it can still be dropped (at the
      // hard limit) without leaving a gap in the chain.
      this.active.chain = new HashChain(chain.chainId, before);
      this.queue = taken.concat(this.queue);
      for (const item of taken) this.queueBytes += item.bytes;
      this.journalFailed(error);
      // Tried again when the journal may accept, not only when the next record arrives.
      this.retryGroupCommit(JOURNAL_RETRY_MS);
      return;
    }
    this.journalRecovered();
    // The journal now holds records: bind it to its database as soon as that answers.
    if (!this.databaseBound) void this.bindJournal();
    if (this.replayOwnThrough === ALL_SEGMENTS) {
      this.segmentsStale = true;
    } else {
      this.ready.push(...batches);
      this.readyRecords += taken.length;
      // Near the bound (the next group would pass it), memory lets go of its copies: the
      // journal has them, and replay reads them from there.
      if (this.readyRecords + this.groupCommitRecords > this.maxQueueRecords) this.releaseReady();
    }
    const now = this.idleWaiters.length > 0 || this.pendingFresh() >= this.batchSize;
    this.schedule(now ? 0 : this.flushIntervalMs);
    this.onProgress();
  }

  private retryGroupCommit(delayMs: number): void {
    if (this.closed) return;
    this.groupTimer = setTimeout(() => this.groupCommit(), Math.max(0, delayMs));
    this.groupTimer.unref();
  }

  /**
   * Whether memory can spill to the journal, whether records become durable in groups there, and
   * whether the delivery loop is idle (what a hosting thread publishes beside the counters).
   */
  activity(): { journalWritable: boolean; journalAccepting: boolean; idle: boolean } {
    const writable = this.journalWritable();
    return {
      journalWritable: writable,
      journalAccepting: writable && this.journalFirst,
      idle: !this.running && this.isIdle(),
    };
  }

  /** journal-first: drops memory copies of journaled batches; own segments replay instead. */
  private releaseReady(): void {
    this.ready = [];
    this.readyRecords = 0;
    this.backlog = this.backlog.filter((batch) => !this.durableBatches.has(batch));
    this.replayOwnThrough = ALL_SEGMENTS;
    this.segmentsStale = true;
  }

  private markAccepted(batch: SealedAuditRecord[]): void {
    if (this.durableBatches.has(batch)) return;
    this.durableBatches.add(batch);
    this.counters.accepted += batch.length;
    this.onProgress();
  }

  /**
   * Resolves once every record accepted so far is committed to the database, or, while the
   * database is unreachable, fsynced to the journal.
   */
  async flush(): Promise<void> {
    if (this.journalFirst) this.groupCommit();
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
      const held = this.unjournaledHeld();
      if (held > 0) {
        this.drop(
          held,
          `shutdown deadline of ${deadlineMs} ms passed with the database unreachable and no journal`,
        );
        this.queue = [];
        this.queueBytes = 0;
        this.backlog = [];
      }
      await this.checkpoints.stop();
    } else if (this.healthy) {
      const committed = this.active.commits.committedThrough.seq;
      // Final head last, after the timer stopped and any periodic head finished.
      if (await this.checkpoints.final(this.active.chain.chainId, this.active.chain.lastSeq))
        this.active = this.startChain(randomUUID());
      // Everything sealed is committed: the write-ahead copies have served their purpose.
      if (this.journalFirst) this.journal?.removeOwnCommitted(committed);
    } else {
      await this.checkpoints.stop();
    }
    if (this.groupTimer) clearTimeout(this.groupTimer);
    this.journal?.close();
  }

  /**
   * Shutdown's drain: unlike `flush`, it keeps trying the database (journal included) until
   * everything is committed, cutting backoffs short every quarter second.
   */
  private async deliverEverything(stopped: () => boolean): Promise<void> {
    // Dead writers' journals bound to a database are judged only once this one's is known.
    await this.bindJournal();
    this.segmentsStale = true;
    while (!stopped()) {
      if (this.healthy && !this.running && this.isIdle()) return;
      if (this.running) this.wake?.();
      else this.schedule(0);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  stats(): WriterStats {
    const held = this.held();
    return {
      chainId: this.chainId,
      ...this.counters,
      checkpoints: this.checkpoints.stats.checkpoints,
      queueDepth: held.records,
      queueBytes: held.bytes,
      lastSeq: this.active.chain.lastSeq,
      committedThrough: this.active.commits.committedThrough.seq,
      databaseReachable: this.healthy,
    };
  }

  /** Nothing in memory, and nothing journaled that a reachable database still lacks. */
  private isIdle(): boolean {
    if (this.queue.length > 0 || this.backlog.length > 0 || this.ready.length > 0) return false;
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
    // Bind the journal before anything spills, if the database answers now; but only when there
    // is work: a query at startup, racing a dying server, meets a postgres.js connection bug
    // (an unhandled rejection in its type fetch) that would take the host down with it.
    if (this.queue.length > 0 || this.ready.length > 0 || this.journal?.hasOtherChains()) {
      await this.bindJournal();
    }
    const inFlight = new Set<Promise<void>>();
    let failed = false;
    const start = (work: Work) => {
      const task: Promise<void> = this.performSafely(work).then(async (result) => {
        inFlight.delete(task);
        this.onProgress();
        if (result === 'transient') {
          failed = true;
          this.healthy = false;
          return;
        }
        if (!this.healthy) this.logger.warn('database reachable again; replaying held records');
        this.healthy = true;
        this.failures = 0;
        await this.checkpoints.maybePublish();
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
      this.onProgress();
      this.settleIdleWaitersIfDurable();
      if (!this.closed && this.pendingFresh() > 0) this.schedule(this.flushIntervalMs);
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
    if (this.closed || this.backlog.length > 0 || this.refreshSegments().length > 0) return null;
    const ready = this.ready.shift();
    if (ready) {
      // A trickle of records commits a small group every groupCommitMs: consecutive groups go to
      // the database together, up to batchSize per statement, not one statement (and commit)
      // per group. Every part is journaled, so the whole is too.
      let batch = ready;
      for (let next = this.ready[0]; next && batch.length + next.length <= this.batchSize; ) {
        batch = batch.concat(next);
        this.ready.shift();
        next = this.ready[0];
      }
      if (batch !== ready) this.durableBatches.add(batch);
      this.readyRecords -= batch.length;
      return { kind: 'fresh', batch };
    }
    // journal-first: the queue waits for its group commit, unless the disk refuses.
    if (this.queue.length === 0 || (this.journalFirst && this.journalWritable())) return null;
    return { kind: 'fresh', batch: this.sealNext() };
  }

  private refreshSegments(): JournalSegment[] {
    // Dead writers' journals whose owner could not be judged yet (a fresh heartbeat) are looked at again.
    if (Date.now() - this.lastSegmentScan > this.journalStaleAfterMs / 2) this.segmentsStale = true;
    if (this.journal && this.segmentsStale) {
      this.lastSegmentScan = Date.now();
      // journal-first: own segments are copies of what memory delivers, unless memory let go.
      const through = this.replayOwnThrough;
      this.pendingSegments = this.journal
        .pendingSegments()
        .filter((s) => !this.journalFirst || !s.own || (through !== null && s.path <= through));
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
      const sealed = this.active.chain.seal(item.record, item.metadataJson);
      sealed.personal = item.personal;
      batch[i] = sealed;
    }
    return batch;
  }

  /** Nothing a journal or a record holds may crash the host: an unexpected error is a retry. */
  private async performSafely(work: Work): Promise<Attempt> {
    try {
      return await this.perform(work);
    } catch (error) {
      this.logger.error(`a delivery step failed unexpectedly, will retry: ${describeError(error)}`);
      return 'transient';
    }
  }

  private async perform(work: Work): Promise<Attempt> {
    switch (work.kind) {
      case 'fresh': {
        this.inFlight.add(work.batch);
        try {
          const result = await this.write(work.batch);
          if (result === 'ok') this.markAccepted(work.batch);
          else if (this.durableBatches.has(work.batch)) {
            // journal-first: the journal has it (and everything after it): replay from there.
            if (this.journalFirst) this.releaseReady();
          } else if (!this.journaledInFlight.has(work.batch)) this.hold(work.batch);
          return result;
        } finally {
          this.inFlight.delete(work.batch);
          this.journaledInFlight.delete(work.batch);
        }
      }
      case 'backlog': {
        const result = await this.write(work.batch);
        if (result === 'ok') {
          // By identity: memory may have let go of journaled copies while this one was written.
          this.backlog = this.backlog.filter((batch) => batch !== work.batch);
          this.markAccepted(work.batch);
        }
        return result;
      }
      case 'replay':
        return this.replay(work.segment);
    }
  }

  /** Keeps a sealed batch that could not be written: on disk when possible, else in memory. */
  private hold(batch: SealedAuditRecord[]): void {
    this.keep(batch, this.appendToJournal(batch));
  }

  /**
   * A sealed batch stays in memory for delivery unless the journal replays it: memory-first
   * replays everything journaled; journal-first replays its own segments only once memory let go
   * of its copies (`releaseReady`), so until then memory keeps delivering journaled batches too.
   */
  private keep(batch: SealedAuditRecord[], journaled: boolean): void {
    if (!journaled || this.memoryDeliversJournaled()) this.backlog.push(batch);
  }

  /** journal-first, before memory let go of its copies: the journal does not replay its own. */
  private memoryDeliversJournaled(): boolean {
    return this.journalFirst && this.replayOwnThrough !== ALL_SEGMENTS;
  }

  /** Journals a sealed batch, and every earlier one no journal has, in chain order. */
  private appendToJournal(batch: SealedAuditRecord[]): boolean {
    if (!this.journalWritable()) return false;
    try {
      this.journalInOrder([batch]);
      this.journalRecovered();
      return true;
    } catch (error) {
      this.journalFailed(error);
      return false;
    }
  }

  /**
   * Appends `batches` together with every sealed batch memory holds that no journal has (held
   * after a failed write, or in flight), in chain order with one fsync: if the process dies,
   * the journal never holds a later record without the earlier ones (no gap in the chain after
   * replay). Copies of batches that did commit replay as duplicates, which the insert skips.
   * Throws, with nothing of it counted, when the disk refuses.
   */
  private journalInOrder(batches: SealedAuditRecord[][]): void {
    const all = [...batches];
    for (const held of this.backlog)
      if (!this.durableBatches.has(held) && !all.includes(held)) all.push(held);
    for (const flying of this.inFlight) {
      if (this.durableBatches.has(flying) || this.journaledInFlight.has(flying)) continue;
      if (!all.includes(flying)) all.push(flying);
    }
    all.sort((a, b) => firstSeq(a) - firstSeq(b));
    (this.journal as Journal).append(
      all.length === 1 ? (all[0] as SealedAuditRecord[]) : all.flat(),
    );
    for (const journaled of all) {
      this.counters.journaled += journaled.length;
      this.markAccepted(journaled);
      if (this.inFlight.has(journaled) && !batches.includes(journaled))
        this.journaledInFlight.add(journaled);
    }
    // Held batches now journaled stay in memory only where the journal does not replay them.
    if (!this.memoryDeliversJournaled())
      this.backlog = this.backlog.filter((held) => !this.durableBatches.has(held));
    this.segmentsStale = true;
  }

  private journalFailed(error: unknown): void {
    this.counters.journalFailures += 1;
    this.journalRetryAt = Date.now() + JOURNAL_RETRY_MS;
    this.onProgress();
    this.logger.error(
      `journal write failed (nothing of it counts as journaled), holding records in memory up to ${this.maxQueueRecords * HARD_LIMIT_FACTOR} and retrying the journal on a later batch: ${describeError(error)}`,
    );
  }

  private journalRecovered(): void {
    if (this.journalRetryAt === 0) return;
    this.journalRetryAt = 0;
    this.logger.warn('the journal accepts writes again');
  }

  /** A journal exists and has not refused an append within the last `JOURNAL_RETRY_MS`. */
  private journalWritable(): boolean {
    return this.journal !== null && Date.now() >= this.journalRetryAt;
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
    // Reading the segment being appended closed it: from here on, memory holds copies again.
    if (contents.wasOpen && this.journalFirst && this.replayOwnThrough === ALL_SEGMENTS) {
      this.replayOwnThrough = segment.path;
    }
    if (contents.malformed.length > 0 && !this.quarantined.has(segment.path)) {
      this.quarantined.add(segment.path);
      this.quarantine(segment, contents.malformed);
    }
    for (let i = 0; i < contents.records.length; i += this.batchSize) {
      const result = await this.write(contents.records.slice(i, i + this.batchSize));
      if (result === 'transient') return result;
    }
    this.quarantined.delete(segment.path);
    if (contents.tornLines > 0) {
      this.counters.corruptJournalLines += contents.tornLines;
      this.logger.error(
        `journal segment ${segment.path} had ${contents.tornLines} torn line(s) (a write cut short by a crash); skipped`,
      );
    }
    this.counters.replayed += contents.records.length;
    (this.journal as Journal).remove(segment);
    if (segment.path === this.replayOwnThrough) this.replayOwnThrough = null;
    this.segmentsStale = true;
    return 'ok';
  }

  /**
   * Lines with a valid checksum that are not audit records (a bug, or a hand-edited file) are
   * kept in the dead-letter file and never replayed; the rest of the segment replays.
   */
  private quarantine(
    segment: JournalSegment,
    malformed: ReadonlyArray<{ line: string; reason: string }>,
  ): void {
    const kept = (this.journal as Journal).deadLetter(malformed.map((m) => m.line));
    this.counters.corruptJournalLines += malformed.length;
    this.counters.quarantinedJournalLines += malformed.length;
    this.logger.error(
      `journal segment ${segment.path} has ${malformed.length} malformed line(s) (first: ${malformed[0]?.reason}); ${kept ? 'moved to the dead-letter file' : 'could not be kept in the dead-letter file'}, replaying the rest`,
    );
  }

  /** One insert statement; rejected data is isolated, transient failures are reported upward. */
  private async write(batch: SealedAuditRecord[]): Promise<Attempt> {
    const started = performance.now();
    try {
      const inserted = await this.guarded(async () => {
        await this.ensurePrepared();
        await this.ensureBound();
        await this.checkpoints.beforeWrite(batch);
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
          Object.assign(new Error(`no answer from the database within ${this.writeTimeoutMs} ms`), {
            code: 'WRITE_TIMEOUT',
          }),
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

  private async bindJournal(): Promise<void> {
    if (this.databaseBound || !this.journal) return;
    await this.guarded(() => this.ensureBound()).catch(() => {});
  }

  /**
   * Learns which database this is, once, before the first write: the journal is bound to it, and
   * dead writers' journals bound to another database are left alone.
   */
  private async ensureBound(): Promise<void> {
    if (this.databaseBound || !this.journal) return;
    try {
      this.journal.bindDatabase(await readDatabaseIdentity(this.store));
      this.segmentsStale = true;
    } catch (error) {
      if (isConnectionError(error)) throw error;
      this.logger.error(
        `cannot read the database identity; journals are bound by location only: ${describeError(error)}`,
      );
    }
    this.databaseBound = true;
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
    this.active.commits.markCommitted(batch);
    this.checkpoints.onCommitted(batch);
    if (this.journalFirst) this.journal?.retire(this.active.commits.committedThrough.seq);
  }

  private overBound(): boolean {
    return this.queue.length > this.maxQueueRecords || this.queueBytes > this.maxQueueBytes;
  }

  /** Moves the oldest half of memory to the journal (what does not fit is refused in `roomFor`). */
  private spill(): void {
    const target = Math.floor(this.maxQueueRecords / 2);
    const targetBytes = Math.floor(this.maxQueueBytes / 2);
    if (this.journalFirst) this.groupCommit();
    // Unsealed records stay in the queue while the disk refuses: they can still be dropped
    // without leaving a gap in the chain, should memory reach its hard limit.
    // And a failed append leaves its sealed batch in memory: never more of those than the bound.
    const sealedHeld = () => this.backlog.reduce((n, b) => n + b.length, 0);
    while (
      !this.journalFirst &&
      this.journalWritable() &&
      this.queue.length > 0 &&
      sealedHeld() < this.maxQueueRecords &&
      (this.queue.length > target || this.queueBytes > targetBytes)
    ) {
      const batch = this.sealNext();
      const journaled = this.appendToJournal(batch);
      this.keep(batch, journaled);
      if (!journaled) break;
    }
    this.schedule(0);
  }

  /**
   * Whether a record of `bytes` fits within the hard limit (twice the memory bound). Checked
   * before it joins memory, so that no step, and no snapshot a hosting thread publishes, ever
   * sees more. Past the limit, memory first moves what it can to the journal and lets go of
   * copies the journal holds; while the disk refuses, the record that still does not fit is the
   * one dropped (the newest).
   */
  private roomFor(bytes: number): boolean {
    const hardRecords = this.maxQueueRecords * HARD_LIMIT_FACTOR;
    const hardBytes = this.maxQueueBytes * HARD_LIMIT_FACTOR;
    const fits = () => {
      const held = this.held();
      return held.records < hardRecords && held.bytes + bytes <= hardBytes;
    };
    if (fits()) return true;
    this.spill();
    if (this.ready.length > 0) this.releaseReady();
    return fits() || this.journalWritable();
  }

  /**
   * What memory holds: unsealed records, journaled copies waiting for delivery, batches kept
   * after a failed write, and fresh batches in flight that no journal has (a failed write keeps
   * them again). Sealed records are counted at their overhead, as their text is not kept.
   */
  private held(): { records: number; bytes: number } {
    let sealed = this.readyRecords;
    for (const batch of this.backlog) sealed += batch.length;
    for (const batch of this.inFlight) {
      if (!this.durableBatches.has(batch) && !this.journaledInFlight.has(batch))
        sealed += batch.length;
    }
    return {
      records: this.queue.length + sealed,
      bytes: this.queueBytes + sealed * RECORD_OVERHEAD_BYTES,
    };
  }

  /** Everything in memory to the journal, oldest first; while the disk refuses, it stays put. */
  private spillAll(): void {
    while (this.queue.length > 0 && this.journalWritable()) {
      const batch = this.sealNext();
      this.keep(batch, this.appendToJournal(batch));
    }
    if (!this.journalWritable() || this.unjournaledHeld() === 0) return;
    try {
      this.journalInOrder([]);
      this.journalRecovered();
    } catch (error) {
      this.journalFailed(error);
    }
  }

  /** Records memory holds that no journal has: the queue, and held batches not journaled. */
  private unjournaledHeld(): number {
    let count = this.queue.length;
    for (const batch of this.backlog) if (!this.durableBatches.has(batch)) count += batch.length;
    return count;
  }

  /**
   * For `process.on('exit')`, where nothing asynchronous runs any more: everything still in
   * memory, in-flight batches included, goes to the journal synchronously, for the next start
   * to replay. What cannot be journaled is reported as dropped.
   */
  persistBeforeExit(): void {
    if (this.queue.length === 0 && this.backlog.length === 0 && this.inFlight.size === 0) return;
    for (const batch of this.inFlight) {
      if (
        !this.durableBatches.has(batch) &&
        !this.journaledInFlight.has(batch) &&
        this.appendToJournal(batch)
      )
        this.journaledInFlight.add(batch);
    }
    // At exit there is no later batch: the journal gets one more try whatever its last failure.
    this.journalRetryAt = 0;
    this.spillAll();
    const held = this.unjournaledHeld();
    if (held > 0)
      this.drop(held, 'the process exited with records in memory and no journal to hold them');
  }

  private drop(count: number, reason: string): void {
    this.counters.dropped += count;
    this.onProgress();
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
    if (!this.healthy) {
      this.spillAll();
      // journal-first: what memory holds for delivery is on disk already.
      const copies = this.backlog.some((batch) => this.durableBatches.has(batch));
      if (this.journalFirst && (this.ready.length > 0 || copies)) this.releaseReady();
    }
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

  /** A chain and its commit tracking, created together (its tree heads open with it). */
  private startChain(chainId: string): ActiveChain {
    this.checkpoints.openChain(chainId);
    return { chain: new HashChain(chainId), commits: new CommitTracker(chainId) };
  }
}

interface ActiveChain {
  chain: HashChain;
  commits: CommitTracker;
}

function withoutTracing<T>(fn: () => Promise<T>): Promise<T> {
  return context.with(suppressTracing(context.active()), fn);
}

function firstSeq(batch: readonly SealedAuditRecord[]): number {
  return batch[0]?.chainSeq ?? 0;
}
