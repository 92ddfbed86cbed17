import type { WriterStats } from './writer-core.js';

/** The numeric counters and gauges of `WriterStats`, in their slot order. */
const NUMBERS = [
  'received',
  'accepted',
  'written',
  'duplicates',
  'journaled',
  'replayed',
  'poisoned',
  'dropped',
  'corruptJournalLines',
  'quarantinedJournalLines',
  'foreignJournals',
  'journalFailures',
  'failedWrites',
  'checkpoints',
  'collisions',
  'queueDepth',
  'queueBytes',
  'lastWriteLatencyMs',
  'lastSeq',
  'committedThrough',
] as const satisfies ReadonlyArray<keyof WriterStats>;

type NumberField = (typeof NUMBERS)[number];

/** What the writer thread publishes: its counters, and the facts the calling thread acts on. */
export interface ThreadSnapshot extends Pick<WriterStats, NumberField> {
  databaseReachable: boolean;
  /** Memory can spill: there is a journal and the disk accepts appends. */
  journalWritable: boolean;
  /** Records group-commit to the journal (journal-first, and the disk accepts appends). */
  journalAccepting: boolean;
  idle: boolean;
}

/** The facts a thread publishes beside its counters; the calling thread assumes them until it does. */
export interface JournalState {
  journalWritable: boolean;
  journalAccepting: boolean;
}

/** What the delivery loop is doing. */
export interface ActivityState extends JournalState {
  /** Nothing held, nothing running: a flush would have nothing to wait for. */
  idle: boolean;
}

const REACHABLE = NUMBERS.length;
const JOURNAL_WRITABLE = NUMBERS.length + 1;
const JOURNAL_ACCEPTING = NUMBERS.length + 2;
const IDLE = NUMBERS.length + 3;
const SLOTS = NUMBERS.length + 4;
/** Control words: a seqlock version (odd while a snapshot is being written), the exit handshake. */
const VERSION = 0;
const PERSISTED = 1;
const CONTROL_BYTES = 8;

/**
 * The writer thread's stats in memory both threads see: the worker publishes a snapshot after
 * every step, the calling thread reads it synchronously (`stats()` never waits on a message) and
 * can sleep until the next one (back-pressure, the exit handshake). A seqlock keeps a read from
 * mixing two snapshots.
 */
export class SharedWriterStats {
  readonly buffer: SharedArrayBuffer;
  private readonly control: Int32Array;
  private readonly values: Float64Array;

  /** A new buffer starts out with `assumed` journal facts, until the thread publishes its own. */
  constructor(buffer: SharedArrayBuffer | JournalState) {
    const fresh = !(buffer instanceof SharedArrayBuffer);
    this.buffer = fresh ? new SharedArrayBuffer(CONTROL_BYTES + SLOTS * 8) : buffer;
    this.control = new Int32Array(this.buffer, 0, 2);
    this.values = new Float64Array(this.buffer, CONTROL_BYTES, SLOTS);
    if (fresh) {
      this.values[REACHABLE] = 1;
      this.values[JOURNAL_WRITABLE] = buffer.journalWritable ? 1 : 0;
      this.values[JOURNAL_ACCEPTING] = buffer.journalAccepting ? 1 : 0;
    }
  }

  /** Worker side: writes a snapshot and wakes a waiting caller. */
  publish(stats: WriterStats, journal: ActivityState): void {
    Atomics.add(this.control, VERSION, 1);
    for (let i = 0; i < NUMBERS.length; i++)
      this.values[i] = stats[NUMBERS[i] as NumberField] as number;
    this.values[REACHABLE] = stats.databaseReachable ? 1 : 0;
    this.values[JOURNAL_WRITABLE] = journal.journalWritable ? 1 : 0;
    this.values[JOURNAL_ACCEPTING] = journal.journalAccepting ? 1 : 0;
    this.values[IDLE] = journal.idle ? 1 : 0;
    Atomics.add(this.control, VERSION, 1);
    Atomics.notify(this.control, VERSION);
  }

  /** The latest complete snapshot. */
  read(): ThreadSnapshot {
    for (;;) {
      const before = Atomics.load(this.control, VERSION);
      if (before % 2 === 1) continue;
      const snapshot = {} as Record<string, number | boolean>;
      for (let i = 0; i < NUMBERS.length; i++)
        snapshot[NUMBERS[i] as NumberField] = this.values[i] as number;
      snapshot.databaseReachable = this.values[REACHABLE] === 1;
      snapshot.journalWritable = this.values[JOURNAL_WRITABLE] === 1;
      snapshot.journalAccepting = this.values[JOURNAL_ACCEPTING] === 1;
      snapshot.idle = this.values[IDLE] === 1;
      if (Atomics.load(this.control, VERSION) === before)
        return snapshot as unknown as ThreadSnapshot;
    }
  }

  version(): number {
    return Atomics.load(this.control, VERSION);
  }

  /** Sleeps until a snapshot newer than `version` is published, or `timeoutMs` passes. */
  waitForNewer(version: number, timeoutMs: number): boolean {
    return Atomics.wait(this.control, VERSION, version, timeoutMs) !== 'timed-out';
  }

  /** Worker side: everything in memory was journaled for the exit handshake. */
  markPersisted(): void {
    Atomics.store(this.control, PERSISTED, 1);
    Atomics.notify(this.control, PERSISTED);
  }

  /** Calling side, in `process.on('exit')`: waits for `markPersisted`, at most `timeoutMs`. */
  waitPersisted(timeoutMs: number): boolean {
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.control, PERSISTED) === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(this.control, PERSISTED, 0, left);
    }
    return true;
  }
}
