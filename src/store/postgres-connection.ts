import type { Readable } from 'node:stream';
import postgres from 'postgres';
import { AitrailError, isAitrailError } from '../errors.js';
import type { CheckpointRecord, SealedAuditRecord } from './audit-record.js';
import { toCopyText, toVaultCopyText } from './copy-text.js';
import {
  AUDIT_LOG_COLUMNS,
  checkpointValues,
  INSERT_CHECKPOINT_SQL,
  UNNEST_INSERT_SQL,
  unnestParameters,
  VAULT_COLUMNS,
} from './insert-sql.js';
import { PartitionKeeper } from './partitions.js';
import { ARRAY_TYPES } from './postgres-arrays.js';
import { isConnectionError } from './writer/write-errors.js';

export interface PostgresStoreOptions {
  url: string;
  /** Pool size; the writer needs one connection, queries share the rest. Default 4. */
  maxConnections?: number;
}

const UNIQUE_VIOLATION = '23505';
const FEATURE_NOT_SUPPORTED = '0A000';
interface CopyQuery {
  reject?: (error: unknown) => void;
  writable(): Promise<import('node:stream').Writable>;
}

/**
 * Planner settings of the sessions `copyOut` runs on (startup parameters: they hold for those
 * connections alone). Verify's keyset read of one chain must stream from the chain index; left
 * to estimates, a chain spread over the table was planned as a parallel scan of the whole table
 * and a sort spilled to disk, page by page (2.5× the server's CPU per row), with JIT compiling
 * each page's expressions again.
 */
const STREAMING_READ_SETTINGS = {
  enable_seqscan: 'off',
  enable_bitmapscan: 'off',
  enable_sort: 'off',
  max_parallel_workers_per_gather: '0',
  jit: 'off',
} as const;

const COPY_SQL = `COPY audit_logs (${AUDIT_LOG_COLUMNS.join(', ')}) FROM STDIN`;
const VAULT_COPY_SQL = `COPY audit_personal_data (${VAULT_COLUMNS.join(', ')}) FROM STDIN`;

/**
 * Postgres through postgres.js, for writing: statements, record batches (COPY, else `unnest`),
 * checkpoints. What the writer thread opens; `PostgresStore` adds drizzle and migrations, whose
 * modules a writer thread then never loads.
 */
export class PostgresConnection {
  readonly kind = 'postgres' as const;
  readonly location: string;
  protected sql: postgres.Sql;
  /**
   * COPY runs on dedicated single-connection clients, one COPY at a time each: postgres.js
   * would otherwise pipeline other statements into a connection still in COPY mode, and a
   * pinned (reserved) connection whose backend dies crashes the process (porsager/postgres#1208).
   */
  private readonly idleCopyClients: postgres.Sql[] = [];
  /** `copyOut`'s connections, apart: they run with `STREAMING_READ_SETTINGS`. */
  private readonly idleReadClients: postgres.Sql[] = [];
  private streamingSettingsRefused = false;
  /**
   * COPY is the fast path; it is refused for roles subject to row-level security and fails
   * on a duplicate, so it falls back to the idempotent `unnest` insert.
   */
  private copyAllowed = true;
  private readonly partitions = new PartitionKeeper((text, params) => this.query(text, params));

  constructor(protected readonly options: PostgresStoreOptions) {
    this.location = redactUrl(options.url);
    this.sql = this.client(options.maxConnections ?? 4);
  }

  protected client(max: number, settings: Readonly<Record<string, string>> = {}): postgres.Sql {
    return postgres(this.options.url, {
      max,
      onnotice: () => {},
      connect_timeout: 10,
      // Idle connections close, so a process that has finished its work can exit.
      idle_timeout: 10,
      // Reconnect within a second of the database coming back (the default grows to 20 s).
      backoff: (attempt: number) => Math.min(0.05 * 2 ** attempt, 1),
      connection: { application_name: 'aitrail', TimeZone: 'UTC', ...settings },
      // No per-connection type fetch: the driver runs it unawaited (see postgres-arrays.ts).
      fetch_types: false,
      types: ARRAY_TYPES,
    }) as unknown as postgres.Sql;
  }

  async query<T extends object>(text: string, params: unknown[] = []): Promise<T[]> {
    const rows = await this.sql.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
    return rows as unknown as T[];
  }

  async insertRecords(records: readonly SealedAuditRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    await this.partitions.ensureFor(records);
    if (this.copyAllowed) {
      try {
        await this.copy(records);
        return records.length;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === FEATURE_NOT_SUPPORTED || isAitrailError(error, 'FEATURE_NOT_SUPPORTED'))
          this.copyAllowed = false;
        else if (code !== UNIQUE_VIOLATION) throw error;
      }
    }
    const [result] = await this.sql.unsafe<{ inserted: number }[]>(
      UNNEST_INSERT_SQL,
      unnestParameters(records) as never[],
    );
    return result?.inserted ?? 0;
  }

  private async copy(records: readonly SealedAuditRecord[]): Promise<void> {
    const client = this.idleCopyClients.pop() ?? this.client(1);
    try {
      // The vault first: a crash between the two leaves vault rows without a chained row
      // (invisible), never a chained row whose values are lost; the replay's idempotent
      // `unnest` insert completes the pair.
      await copyOn(client, VAULT_COPY_SQL, toVaultCopyText(records));
      await copyOn(client, COPY_SQL, toCopyText(records));
    } catch (error) {
      // A connection that failed mid-COPY is not reused: postgres.js 3.4.9 can leave it unable
      // to flush another write.
      if (isConnectionError(error)) {
        void client.end({ timeout: 0 }).catch(() => {});
        throw error;
      }
      this.idleCopyClients.push(client);
      throw error;
    }
    this.idleCopyClients.push(client);
  }

  /**
   * `COPY … TO STDOUT` as a stream, on a dedicated connection planned for streaming reads
   * (`STREAMING_READ_SETTINGS`): verify reads chains this way.
   */
  async copyOut(statement: string): Promise<Readable> {
    const settings = this.streamingSettingsRefused ? {} : STREAMING_READ_SETTINGS;
    const client = this.idleReadClients.pop() ?? this.client(1, settings);
    let stream: Readable;
    try {
      stream = (await client.unsafe(statement).readable()) as unknown as Readable;
    } catch (error) {
      // A pooler (PgBouncer) refuses startup parameters it does not know: read as planned.
      if (!this.streamingSettingsRefused && /startup parameter/i.test(String(error))) {
        this.streamingSettingsRefused = true;
        void client.end({ timeout: 0 }).catch(() => {});
        return this.copyOut(statement);
      }
      if (isConnectionError(error)) void client.end({ timeout: 0 }).catch(() => {});
      else this.idleReadClients.push(client);
      throw error;
    }
    // Back to the idle list once the copy ran to its end; a stream closed early (or failed)
    // leaves its connection mid-COPY, so that connection is closed instead.
    let ended = false;
    stream.once('end', () => {
      ended = true;
      // postgres.js 3.4.9 pauses its socket when the stream's buffer is full and resumes it only
      // from the stream's read(): a copy whose last rows arrived into a full buffer would end
      // with the socket paused, and the connection would hang on its next statement.
      (stream as Readable & { _read(size: number): void })._read(0);
    });
    stream.once('close', () => {
      if (ended) this.idleReadClients.push(client);
      else void client.end({ timeout: 0 }).catch(() => {});
    });
    return stream;
  }

  /**
   * Drops every connection and starts afresh: the writer calls this when a statement neither
   * succeeds nor fails in time, which is how a connection poisoned by a dropped socket shows.
   */
  async recycle(): Promise<void> {
    const old = [this.sql, ...this.idleCopyClients.splice(0), ...this.idleReadClients.splice(0)];
    this.sql = this.client(this.options.maxConnections ?? 4);
    await Promise.all(old.map((client) => client.end({ timeout: 1 }).catch(() => {})));
  }

  reopenOptions(): { databaseUrl: string; maxConnections?: number } {
    return { databaseUrl: this.options.url, maxConnections: this.options.maxConnections };
  }

  async insertCheckpoint(c: CheckpointRecord): Promise<void> {
    await this.sql.unsafe(INSERT_CHECKPOINT_SQL, checkpointValues(c) as never[]);
  }

  async close(): Promise<void> {
    const clients = [
      this.sql,
      ...this.idleCopyClients.splice(0),
      ...this.idleReadClients.splice(0),
    ];
    await Promise.all(clients.map((client) => client.end({ timeout: 5 })));
  }
}

/** Hides the password of a connection URL. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

/**
 * COPY on one dedicated connection. postgres.js 3.4.9 never settles a COPY writable whose data
 * the server rejects after CopyDone (porsager/postgres#1173): the error only reaches the
 * query's own `reject`. Hooking it turns that hang into a rejection.
 */
async function copyOn(sql: postgres.Sql, statement: string, text: string): Promise<void> {
  const query = sql.unsafe(statement) as unknown as CopyQuery;
  const forwardReject = query.reject;
  if (typeof forwardReject !== 'function') {
    throw new AitrailError(
      'FEATURE_NOT_SUPPORTED',
      'COPY is unavailable on this postgres.js version; inserting with unnest instead',
    );
  }
  let rejectCopy: (error: unknown) => void = () => {};
  const serverRejected = new Promise<never>((_, reject) => {
    rejectCopy = reject;
  });
  serverRejected.catch(() => {});
  query.reject = (error: unknown) => {
    rejectCopy(error);
    forwardReject(error);
  };
  const stream = await Promise.race([query.writable(), serverRejected]);
  const finished = new Promise<void>((resolve, reject) => {
    // `on`, not `once`: a second, late error must not become an uncaught 'error' event.
    stream.on('error', reject);
    stream.once('finish', resolve);
    stream.end(text);
  });
  await Promise.race([finished, serverRejected]);
}
