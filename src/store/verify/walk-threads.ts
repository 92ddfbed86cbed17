import { Worker } from 'node:worker_threads';
import { AitrailError, type AitrailErrorCode } from '../../errors.js';
import type { Fail, WalkPlan, WalkSummary } from './chain-walk.js';
import type { ChainFailure } from './report.js';

/** Verifying thread → walk thread. Rows travel as whole binary COPY tuples, many per batch. */
export type ToWalkThread =
  | { type: 'start'; id: number; plan: WalkPlan }
  | { type: 'batch'; id: number; data: ArrayBuffer; length: number }
  | { type: 'end'; id: number };

/** Walk thread → verifying thread. */
export type FromWalkThread =
  | { type: 'fail'; id: number; failure: Omit<ChainFailure, 'chainId'> }
  | { type: 'rows'; id: number; rows: number }
  /** A batch was walked: its buffer comes back to be filled again. */
  | { type: 'ack'; id: number; data: ArrayBuffer }
  | { type: 'done'; id: number; summary: WalkSummary }
  | { type: 'error'; id: number; message: string; code: string | null };

/** Bytes per batch sent to a walk thread. */
const BATCH_BYTES = 1024 * 1024;
/** Batches a walk may have in flight before the database stream is paused. */
const MAX_IN_FLIGHT = 4;

/** A walk running on another thread: fed rows, it answers with its summary. */
export interface WalkHandle {
  row(tuple: Buffer): void;
  /** While too many batches wait for the thread: a promise to pause the database stream on. */
  backpressure(): Promise<void> | null;
  finish(): Promise<WalkSummary>;
}

interface Walk {
  worker: Worker;
  /** Batch buffers back from the thread, to fill again (no allocation per batch). */
  free: ArrayBuffer[];
  fail: Fail;
  onRows: (n: number) => void;
  inFlight: number;
  drained: (() => void) | null;
  done: (summary: WalkSummary) => void;
  error: (error: Error) => void;
  failed: Error | null;
}

/**
 * Worker threads that run chain walks, so that hashing and canonical JSON (most of verify's work)
 * run beside the thread reading from the database. One walk per thread at a time; the caller
 * runs no more chains at once than there are threads.
 */
export class WalkThreads {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly walks = new Map<number, Walk>();
  private nextId = 1;
  /** Threads started so far. */
  started = 0;
  private closed = false;
  /** Threads that failed or exited: never handed a walk again. */
  private readonly lostWorkers = new Set<Worker>();

  /**
   * @param size threads at most (one walk each at a time)
   * @param minRows chains with fewer rows to read are walked on the calling thread: starting a
   *   thread costs more than it saves
   */
  constructor(
    private readonly size: number,
    readonly minRows: number,
  ) {}

  start(plan: WalkPlan, fail: Fail, onRows: (n: number) => void): WalkHandle {
    const worker = this.worker();
    const id = this.nextId++;
    let batch = Buffer.allocUnsafeSlow(BATCH_BYTES);
    let used = 0;
    let summary: Promise<WalkSummary> | null = null;
    const walk: Walk = {
      worker,
      free: [],
      fail,
      onRows,
      inFlight: 0,
      drained: null,
      done: () => {},
      error: () => {},
      failed: null,
    };
    this.walks.set(id, walk);
    const finished = new Promise<WalkSummary>((resolve, reject) => {
      walk.done = resolve;
      walk.error = reject;
    });
    finished.catch(() => {});
    worker.postMessage({ type: 'start', id, plan } satisfies ToWalkThread);
    const flush = () => {
      if (used === 0) return;
      const data = batch.buffer as ArrayBuffer;
      worker.postMessage({ type: 'batch', id, data, length: used } satisfies ToWalkThread, [data]);
      walk.inFlight += 1;
      const reused = walk.free.pop();
      batch = reused ? Buffer.from(reused) : Buffer.allocUnsafeSlow(BATCH_BYTES);
      used = 0;
    };
    return {
      row: (tuple: Buffer) => {
        if (used + tuple.length > batch.length) {
          flush();
          if (tuple.length > batch.length) batch = Buffer.allocUnsafeSlow(tuple.length);
        }
        used += tuple.copy(batch, used);
      },
      backpressure: () => {
        if (walk.failed) return Promise.reject(walk.failed);
        if (walk.inFlight < MAX_IN_FLIGHT) return null;
        return new Promise<void>((resolve) => {
          walk.drained = resolve;
        });
      },
      finish: () => {
        if (summary) return summary;
        flush();
        worker.postMessage({ type: 'end', id } satisfies ToWalkThread);
        summary = finished.finally(() => {
          this.walks.delete(id);
          if (!this.closed && !this.lostWorkers.has(worker)) this.idle.push(worker);
        });
        return summary;
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.all.splice(0);
    this.idle.length = 0;
    for (const worker of workers) worker.removeAllListeners('exit');
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private worker(): Worker {
    if (this.closed) throw new Error('the walk threads were closed');
    const idle = this.idle.pop();
    if (idle) return idle;
    if (this.all.length >= this.size) throw new Error('more walks at once than walk threads');
    const worker = startWorker();
    this.started += 1;
    worker.on('message', (message: FromWalkThread) => this.receive(message));
    const lost = (error: Error) => {
      this.lostWorkers.add(worker);
      const at = this.all.indexOf(worker);
      if (at >= 0) this.all.splice(at, 1);
      for (const walk of this.walks.values()) if (walk.worker === worker) this.abort(walk, error);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`a verify thread exited (code ${code})`)));
    this.all.push(worker);
    return worker;
  }

  private receive(message: FromWalkThread): void {
    const walk = this.walks.get(message.id);
    if (!walk) return;
    switch (message.type) {
      case 'fail':
        walk.fail(message.failure);
        break;
      case 'rows':
        walk.onRows(message.rows);
        break;
      case 'ack':
        walk.inFlight -= 1;
        if (message.data.byteLength === BATCH_BYTES) walk.free.push(message.data);
        if (walk.drained && walk.inFlight <= MAX_IN_FLIGHT / 2) {
          const drained = walk.drained;
          walk.drained = null;
          drained();
        }
        break;
      case 'done':
        walk.done(message.summary);
        break;
      case 'error':
        this.abort(
          walk,
          message.code
            ? new AitrailError(message.code as AitrailErrorCode, message.message)
            : new Error(message.message),
        );
    }
  }

  private abort(walk: Walk, error: Error): void {
    if (walk.failed) return;
    walk.failed = error;
    walk.error(error);
    const drained = walk.drained;
    walk.drained = null;
    drained?.();
  }
}

/** The worker's entry: the built .js beside this file, or the .ts source through tsx. */
function startWorker(): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './walk-worker.ts' : './walk-worker.js', import.meta.url);
  const execArgv =
    fromSource && !process.execArgv.some((a) => a.includes('tsx'))
      ? [...process.execArgv, '--import', 'tsx']
      : process.execArgv;
  // A small young generation: the walk allocates per row, and a default-sized one grows RSS with rows.
  return new Worker(entry, {
    execArgv,
    name: 'aitrail verify',
    resourceLimits: { maxYoungGenerationSizeMb: 8 },
  });
}
