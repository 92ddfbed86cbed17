import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { CheckpointRecord, SealedAuditRecord } from './audit-record.js';
import type { MigrateOptions, MigrationResult } from './migrations.js';
import type * as schema from './schema.js';

export type AuditDatabase = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Where audit records live: real Postgres (postgres.js) or embedded PGlite, behind one interface. */
export interface AuditStore {
  readonly kind: 'postgres' | 'pglite';
  /** Safe to print: a URL without its password, or a directory. */
  readonly location: string;
  /** Drizzle over the same connection(s), for typed queries. */
  readonly db: AuditDatabase;
  /** Runs one parameterised statement and returns its rows. */
  query<T extends object>(text: string, params?: unknown[]): Promise<T[]>;
  /**
   * Runs `COPY (…) TO STDOUT` (text format) on a connection of its own and returns its output,
   * one line per row, as a stream with backpressure. Optional: verify reads through `query`
   * where a store has none (the embedded store).
   */
  copyOut?(statement: string): Promise<import('node:stream').Readable>;
  /**
   * Inserts sealed records in one statement, idempotently (`ON CONFLICT (event_id) DO NOTHING`).
   * Resolves to the number of rows that were new.
   */
  insertRecords(records: readonly SealedAuditRecord[]): Promise<number>;
  insertCheckpoint(checkpoint: CheckpointRecord): Promise<void>;
  /** Drops and reopens connections (after a statement hung); optional. */
  recycle?(): Promise<void>;
  /**
   * How another thread opens connections of its own to the same database (the writer thread);
   * absent where that cannot be done (an embedded store lives in one thread).
   */
  reopenOptions?(): { databaseUrl: string; maxConnections?: number };
  /**
   * Applies pending migrations, then checks the protections (throws `ProtectionsMissingError`
   * naming what is missing); safe to call from many processes at once.
   */
  migrate(options?: MigrateOptions): Promise<MigrationResult>;
  close(): Promise<void>;
}

/** What a writer needs of a store: its writing half (all a writer thread opens). */
export type WriterStore = Pick<
  AuditStore,
  'kind' | 'location' | 'query' | 'insertRecords' | 'insertCheckpoint' | 'recycle' | 'reopenOptions'
>;
