import { Worker } from 'node:worker_threads';
import { AitrailError, type AitrailErrorCode } from '../../errors.js';
import { threadEnv, threadExecArgv } from '../thread-options.js';
import type { Fail, WalkPlan, WalkSummary } from './chain-walk.js';
import type { ChainFailure } from './report.js';

/** What a walk thread reads: a chain's rows after `afterSeq`, over a connection of its own. */
export interface ReadRange {
  databaseUrl: string;
  afterSeq: number;
  pageRows: number;
}

/** Verifying thread → walk thread. */
export type ToWalkThread =
  | { type: 'walk'; id: number; plan: WalkPlan; read: ReadRange }
  /** Close the thread's connection and exit. */
  | { type: 'close' };

/** Walk thread → verifying thread. */
export type FromWalkThread =
  | { type: 'fail'; id: number; failure: Omit<ChainFailure, 'chainId'> }
  | { type: 'rows'; id: number; rows: number }
  | { type: 'done'; id: number; summary: WalkSummary }
  /** `code`: an `AitrailError`'s when `aitrail`, else the driver's (an SQLSTATE, `ECONNREFUSED`). */
  | { type: 'error'; id: number; message: string; code: string | null; aitrail: boolean };

/** How long a thread may take to close its connection before it is terminated. */
const CLOSE_TIMEOUT_MS = 2000;

interface Walk {
  worker: Worker;
  fail: Fail;
  onRows: (n: number) => void;
  done: (summary: WalkSummary) => void;
  error: (error: Error) => void;
}

/**
 * Worker threads that each read a chain over a connection of their own and walk its rows there:
 * streaming, canonical JSON and hashing (all of verify's per-row work) run on as many threads as
 * chains are checked at once, and the database's backends beside them. Nothing per row crosses
 * between threads. One walk per thread at a time; the caller runs no more chains at once than
 * there are threads.
 */
export class WalkThreads {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly walks = new Map<number, Walk>();
  private nextId = 1;
  /** Threads started so far. */
  started = 0;
  private closed = false;

  /**
   * @param size threads at most (one walk each at a time)
   * @param minRows chains with fewer rows to read are walked on the calling thread: starting a
   *   thread costs more than it saves
   * @param databaseUrl where a thread connects (the store's `reopenOptions()`)
   */
  constructor(
    private readonly size: number,
    readonly minRows: number,
    private readonly databaseUrl: string,
  ) {}

  /** Reads the chain's rows after `afterSeq` on a thread and walks them there. */
  walk(
    plan: WalkPlan,
    read: Omit<ReadRange, 'databaseUrl'>,
    fail: Fail,
    onRows: (n: number) => void,
  ): Promise<WalkSummary> {
    const worker = this.worker();
    const id = this.nextId++;
    const finished = new Promise<WalkSummary>((resolve, reject) => {
      this.walks.set(id, { worker, fail, onRows, done: resolve, error: reject });
    });
    worker.postMessage({
      type: 'walk',
      id,
      plan,
      read: { ...read, databaseUrl: this.databaseUrl },
    } satisfies ToWalkThread);
    return finished.finally(() => {
      this.walks.delete(id);
      if (!this.closed && this.all.includes(worker)) this.idle.push(worker);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.all.splice(0);
    this.idle.length = 0;
    await Promise.all(
      workers.map(async (worker) => {
        worker.removeAllListeners('exit');
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        worker.postMessage({ type: 'close' } satisfies ToWalkThread);
        const timer = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
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
      for (const list of [this.all, this.idle]) {
        const at = list.indexOf(worker);
        if (at >= 0) list.splice(at, 1);
      }
      for (const walk of this.walks.values()) if (walk.worker === worker) walk.error(error);
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
      case 'done':
        walk.done(message.summary);
        break;
      case 'error':
        walk.error(
          message.aitrail && message.code
            ? new AitrailError(message.code as AitrailErrorCode, message.message)
            : Object.assign(new Error(message.message), message.code ? { code: message.code } : {}),
        );
    }
  }
}

/** The worker's entry: the built .js beside this file, or the .ts source through tsx. */
function startWorker(): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './walk-worker.ts' : './walk-worker.js', import.meta.url);
  // A small young generation: the walk allocates per row, and a default-sized one grows RSS with rows.
  return new Worker(entry, {
    execArgv: threadExecArgv(fromSource),
    env: threadEnv(),
    name: 'aitrail verify',
    resourceLimits: { maxYoungGenerationSizeMb: 8 },
  });
}
