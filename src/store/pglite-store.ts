import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import type { CheckpointRecord, SealedAuditRecord } from './audit-record.js';
import type { AuditDatabase, AuditStore } from './audit-store.js';
import { DirectoryLock } from './directory-lock.js';
import {
  checkpointValues,
  INSERT_CHECKPOINT_SQL,
  UNNEST_INSERT_SQL,
  unnestParameters,
} from './insert-sql.js';
import {
  describeMigrationFailure,
  type MigrateOptions,
  type MigrationResult,
  runMigrations,
} from './migrations.js';
import { PartitionKeeper } from './partitions.js';
import * as schema from './schema.js';

/**
 * Embedded Postgres (PGlite, Postgres compiled to WASM) in a directory. One process at a time
 * may open a directory; it runs as superuser, so row-level security does not apply here.
 */
export class PgliteStore implements AuditStore {
  readonly kind = 'pglite' as const;
  readonly db: AuditDatabase;
  private readonly pg: PGlite;
  private readonly partitions: PartitionKeeper;

  private constructor(
    readonly location: string,
    pg: PGlite,
    private readonly lock: DirectoryLock,
  ) {
    this.pg = pg;
    this.partitions = new PartitionKeeper((text, params) => pg.query(text, params));
    this.db = drizzle(pg, { schema }) as unknown as AuditDatabase;
  }

  static async open(directory: string): Promise<PgliteStore> {
    mkdirSync(directory, { recursive: true });
    const lock = DirectoryLock.acquire(directory);
    try {
      const pg = await PGlite.create(directory);
      await pg.exec(`SET TIME ZONE 'UTC'`);
      return new PgliteStore(directory, pg, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  async query<T extends object>(text: string, params: unknown[] = []): Promise<T[]> {
    const result = await this.pg.query<T>(text, params);
    return result.rows;
  }

  async insertRecords(records: readonly SealedAuditRecord[]): Promise<number> {
    if (records.length === 0) return 0;
    await this.partitions.ensureFor(records);
    const result = await this.pg.query<{ inserted: number }>(
      UNNEST_INSERT_SQL,
      unnestParameters(records),
    );
    return result.rows[0]?.inserted ?? 0;
  }

  async insertCheckpoint(c: CheckpointRecord): Promise<void> {
    await this.pg.query(INSERT_CHECKPOINT_SQL, checkpointValues(c) as never[]);
  }

  async migrate(options: MigrateOptions = {}): Promise<MigrationResult> {
    try {
      return await runMigrations(
        async (statement) => (await this.pg.query<Record<string, unknown>>(statement)).rows,
        (config) => migrate(drizzle(this.pg), config),
        this.location,
        options,
      );
    } catch (error) {
      throw describeMigrationFailure(this.location, error);
    }
  }

  async close(): Promise<void> {
    try {
      if (!this.pg.closed) await this.pg.close();
    } finally {
      this.lock.release();
    }
  }
}
