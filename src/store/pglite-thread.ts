import { Worker } from 'node:worker_threads';
import { AitrailError } from '../errors.js';
import { threadEnv, threadExecArgv } from './thread-options.js';

/** What a statement returns, in PGlite's shape (drizzle's PGlite driver reads it). */
export interface PgliteResults<T = Record<string, unknown>> {
  rows: T[];
  fields: Array<{ name: string; dataTypeID: number }>;
  affectedRows?: number;
}

export interface PgliteQueryOptions {
  rowMode?: 'array' | 'object';
  /** Per type OID; only parsers that keep the text as it is are supported (drizzle's are). */
  parsers?: Record<number, (value: string, typeId: number) => unknown>;
}

/** The part of PGlite's interface the store and drizzle use. */
export interface PgliteConnection {
  query<T>(
    text: string,
    params?: unknown[],
    options?: PgliteQueryOptions,
  ): Promise<PgliteResults<T>>;
  exec(text: string): Promise<PgliteResults[]>;
}

export interface PgliteThreadOptions {
  /** The data directory (created and locked by the caller). */
  directory: string;
  /** Postgres settings passed at start (`-c name=value`). */
  settings: Readonly<Record<string, string>>;
  /**
   * Work on the directory to finish before Postgres starts in it (planting the seed); the thread
   * boots and loads PGlite meanwhile. When it fails, the thread ends and `start` rejects with it.
   */
  prepare?: Promise<void>;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface SerializedError {
  name: string;
  message: string;
  fields: Record<string, string | number | boolean>;
}

type Reply =
  | { op: 'ready' }
  | { op: 'failed'; error: SerializedError }
  | { id: number; result: unknown }
  | { id: number; error: SerializedError };

/**
 * PGlite in a worker thread (pglite-host.mjs): Postgres runs there, so a migration, a checkpoint
 * or a long query never blocks the app's event loop. One statement at a time, like one
 * connection; `transaction` holds the connection until it commits or rolls back. The thread
 * keeps the process alive only while a statement is in flight, as a socket would.
 */
export class PgliteThread implements PgliteConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private queue: Promise<unknown> = Promise.resolve();
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => {
      if (!('id' in reply)) return;
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) waiting.reject(reviveError(reply.error));
      else waiting.resolve(reply.result);
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      if (this.closing === null) this.fail(new Error(`the PGlite thread exited (code ${code})`));
    });
  }

  static async start(options: PgliteThreadOptions): Promise<PgliteThread> {
    const worker = new Worker(new URL('./pglite-host.mjs', import.meta.url), {
      workerData: { directory: options.directory, settings: options.settings },
      // The host is plain JavaScript: no loader (tsx) needs to run in the thread.
      execArgv: threadExecArgv(false),
      env: threadEnv(),
    });
    let onMessage: (reply: Reply) => void = () => {};
    let onError: (error: Error) => void = () => {};
    let onExit: (code: number) => void = () => {};
    const started = new Promise<void>((resolve, reject) => {
      onMessage = (reply) => {
        if (!('op' in reply)) return;
        if (reply.op === 'ready') resolve();
        else reject(reviveError(reply.error));
      };
      onError = reject;
      onExit = (code) =>
        reject(new Error(`the PGlite thread exited while starting (code ${code})`));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    });
    started.catch(() => {});
    try {
      try {
        await options.prepare;
      } catch (error) {
        await worker.terminate();
        throw error;
      }
      try {
        worker.postMessage({ op: 'open' });
        await started;
      } catch (cause) {
        await worker.terminate();
        throw new AitrailError(
          'DATABASE_UNAVAILABLE',
          `the embedded store at ${options.directory} could not start: ${(cause as Error).message}`,
          { cause },
        );
      }
    } finally {
      // Only these: removeAllListeners would also drop the Worker's own hooks on its port.
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    }
    worker.unref();
    return new PgliteThread(worker);
  }

  get closed(): boolean {
    return this.closing !== null || this.failure !== null;
  }

  query<T>(
    text: string,
    params: unknown[] = [],
    options: PgliteQueryOptions = {},
  ): Promise<PgliteResults<T>> {
    return this.exclusively(() =>
      this.send({ op: 'query', ...queryMessage(text, params, options) }),
    );
  }

  exec(text: string): Promise<PgliteResults[]> {
    return this.exclusively(() => this.send({ op: 'exec', text }));
  }

  /**
   * Runs `fn` between BEGIN and COMMIT (ROLLBACK when it throws), with the connection to itself:
   * other statements wait until it ends, so none lands inside the transaction.
   */
  transaction<T>(fn: (tx: PgliteConnection) => Promise<T>): Promise<T> {
    return this.exclusively(async () => {
      const tx: PgliteConnection = {
        query: (text, params = [], options = {}) =>
          this.send({ op: 'query', ...queryMessage(text, params, options) }),
        exec: (text) => this.send({ op: 'exec', text }),
      };
      await tx.exec('BEGIN');
      let result: T;
      try {
        result = await fn(tx);
      } catch (error) {
        await tx.exec('ROLLBACK').catch(() => {});
        throw error;
      }
      await tx.exec('COMMIT');
      return result;
    });
  }

  /** Applies drizzle migrations (`migrate` of drizzle-orm/pglite/migrator) on the thread. */
  migrate(config: {
    migrationsFolder: string;
    migrationsSchema: string;
    migrationsTable: string;
  }): Promise<void> {
    return this.exclusively(() => this.send({ op: 'migrate', config }));
  }

  /** Closes Postgres cleanly (a shutdown checkpoint), then ends the thread. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        if (this.failure === null)
          await this.queue.catch(() => {}).then(() => this.send({ op: 'close' }));
      } finally {
        await this.worker.terminate();
      }
    })();
    return this.closing;
  }

  /** Statements asked for before `close()` still run; later ones are refused. */
  private exclusively<T>(run: () => Promise<T>): Promise<T> {
    if (this.closing !== null) {
      return Promise.reject(
        new AitrailError('DATABASE_UNAVAILABLE', 'the embedded store is closed'),
      );
    }
    const next = this.queue.catch(() => {}).then(run);
    this.queue = next;
    return next;
  }

  private send<T>(message: Record<string, unknown>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.ref();
      this.worker.postMessage({ id, ...message });
    });
  }

  private fail(cause: Error): void {
    if (this.failure) return;
    this.failure = new AitrailError(
      'DATABASE_UNAVAILABLE',
      `the embedded store stopped: ${cause.message}`,
      { cause },
    );
    for (const waiting of this.pending.values()) waiting.reject(this.failure);
    this.pending.clear();
    this.worker.unref();
  }
}

function queryMessage(text: string, params: unknown[], options: PgliteQueryOptions) {
  return { text, params, rowMode: options.rowMode, rawTypes: rawTypes(options.parsers) };
}

/** The type OIDs whose parsers keep the text; any other parser cannot cross to the thread. */
function rawTypes(parsers: PgliteQueryOptions['parsers']): number[] | undefined {
  if (parsers === undefined) return undefined;
  return Object.entries(parsers).map(([type, parse]) => {
    if (parse('\u0000probe', Number(type)) !== '\u0000probe') {
      throw new TypeError(
        `PgliteThread: the parser for type ${type} changes values; only parsers that keep the text are supported`,
      );
    }
    return Number(type);
  });
}

/** A database error with its SQLSTATE `code` and the other fields drivers report. */
function reviveError(serialized: SerializedError): Error {
  const error = Object.assign(new Error(serialized.message), serialized.fields);
  error.name = serialized.name;
  return error;
}
