import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { AitrailError } from '../errors.js';
import type { CheckpointRecord, SealedAuditRecord } from './audit-record.js';
import type { AuditDatabase, AuditStore } from './audit-store.js';
import { DirectoryLock, LOCK_FILE, LOCK_OWNER_FILE } from './directory-lock.js';
import {
  checkpointValues,
  INSERT_CHECKPOINT_SQL,
  UNNEST_INSERT_SQL,
  unnestParameters,
} from './insert-sql.js';
import {
  describeMigrationFailure,
  type MIGRATION_CONFIG,
  type MigrateOptions,
  type MigrationResult,
  runMigrations,
} from './migrations.js';
import { PartitionKeeper } from './partitions.js';
import { CLUSTER_MARKER, findSeed, loadSeed, plantSeed, type Seed } from './pglite-seed.js';
import { PgliteThread } from './pglite-thread.js';

/**
 * Postgres settings of the embedded store, on top of PGlite's start parameters (whose `-F`,
 * fsync off, the thread drops: commits are durable).
 */
export const EMBEDDED_SETTINGS: Readonly<Record<string, string>> = {
  // PGlite's fdatasync is a stub; fsync reaches the disk (see pglite-host.mjs).
  wal_sync_method: 'fsync',
  // PGlite's default is 128MB; an audit trail appends and reads back little at a time.
  shared_buffers: '16MB',
  // Single-user Postgres checkpoints only when the WAL reaches max_wal_size: keep it small, so
  // the WAL on disk and the replay after a crash stay small too (the default is 1GB).
  max_wal_size: '64MB',
  min_wal_size: '32MB',
};

export interface PgliteStoreOptions {
  /**
   * A new store is planted from a seed: the one this build ships (default), the seed file at
   * this path, or none (`null`: initdb, then the migrations on `migrate()`).
   */
  seed?: string | null;
}

/**
 * Embedded Postgres (PGlite, Postgres compiled to WASM) in a directory, running in a worker
 * thread. One process at a time may open a directory; it runs as superuser, so row-level
 * security does not apply here.
 */
export class PgliteStore implements AuditStore {
  readonly kind = 'pglite' as const;
  private readonly partitions: PartitionKeeper;
  private database: AuditDatabase | undefined;
  /** Calls under way; `close()` lets them finish (an insert is two statements). */
  private readonly running = new Set<Promise<unknown>>();
  private closing: Promise<void> | null = null;

  private constructor(
    readonly location: string,
    private readonly pg: PgliteThread,
    private readonly lock: DirectoryLock,
  ) {
    this.partitions = new PartitionKeeper((text, params) => pg.query(text, params));
  }

  /**
   * drizzle over the thread, made on first use: an app that only writes never loads drizzle
   * (its ES modules take a second or more to load, blocking the event loop). The CommonJS build
   * loads several times faster, and drizzle's objects work across its two builds (it tells its
   * classes apart by global symbols, not by identity). No relational schema: nothing uses `db.query`.
   */
  get db(): AuditDatabase {
    if (this.database === undefined) {
      const { drizzle } = createRequire(import.meta.url)('drizzle-orm/pglite') as {
        drizzle: (config: { client: unknown }) => unknown;
      };
      this.database = drizzle({ client: this.pg }) as AuditDatabase;
    }
    return this.database;
  }

  static async open(directory: string, options: PgliteStoreOptions = {}): Promise<PgliteStore> {
    // Owner-only (a directory of an earlier release too): PGlite creates Postgres's files
    // readable and writable by anyone.
    await mkdir(directory, { recursive: true, mode: 0o700 });
    await chmod(directory, 0o700).catch(() => {});
    const lock = DirectoryLock.acquire(directory);
    let pg: PgliteThread | undefined;
    try {
      // A new store is planted while the thread boots and loads PGlite.
      const prepare = existsSync(join(directory, CLUSTER_MARKER))
        ? undefined
        : makeCluster(directory, options.seed);
      pg = await PgliteThread.start({ directory, settings: EMBEDDED_SETTINGS, prepare });
      await pg.exec(`SET TIME ZONE 'UTC'`);
      return new PgliteStore(directory, pg, lock);
    } catch (error) {
      await pg?.close().catch(() => {});
      lock.release();
      throw error;
    }
  }

  query<T extends object>(text: string, params: unknown[] = []): Promise<T[]> {
    return this.run(async () => (await this.pg.query<T>(text, params)).rows);
  }

  insertRecords(records: readonly SealedAuditRecord[]): Promise<number> {
    return this.run(async () => {
      if (records.length === 0) return 0;
      await this.partitions.ensureFor(records);
      const result = await this.pg.query<{ inserted: number }>(
        UNNEST_INSERT_SQL,
        unnestParameters(records),
      );
      return result.rows[0]?.inserted ?? 0;
    });
  }

  insertCheckpoint(c: CheckpointRecord): Promise<void> {
    return this.run(async () => {
      await this.pg.query(INSERT_CHECKPOINT_SQL, checkpointValues(c) as never[]);
    });
  }

  migrate(options: MigrateOptions = {}): Promise<MigrationResult> {
    return this.run(async () => {
      try {
        return await runMigrations(
          async (statement) => (await this.pg.query<Record<string, unknown>>(statement)).rows,
          async (config) => {
            if (await hasPendingMigrations(this.pg, config)) await this.pg.migrate(config);
          },
          this.location,
          options,
        );
      } catch (error) {
        throw describeMigrationFailure(this.location, error);
      }
    });
  }

  /** Lets the calls under way finish, closes Postgres cleanly, and unlocks the directory. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.running]);
      try {
        await this.pg.close();
      } finally {
        this.lock.release();
      }
    })();
    return this.closing;
  }

  private run<T>(call: () => Promise<T>): Promise<T> {
    if (this.closing !== null) {
      return Promise.reject(
        new AitrailError(
          'DATABASE_UNAVAILABLE',
          `the embedded store at ${this.location} is closed`,
        ),
      );
    }
    const running = call();
    this.running.add(running);
    void running.then(
      () => this.running.delete(running),
      () => this.running.delete(running),
    );
    return running;
  }
}

/**
 * drizzle's own rule: a migration is pending when it is newer than the newest one recorded. Asked
 * first, so an up-to-date store (every reopen) never loads drizzle's migrator.
 */
async function hasPendingMigrations(
  pg: PgliteThread,
  config: typeof MIGRATION_CONFIG,
): Promise<boolean> {
  const journal = JSON.parse(
    await readFile(join(config.migrationsFolder, 'meta/_journal.json'), 'utf8'),
  ) as { entries: Array<{ when: number }> };
  const newest = Math.max(...journal.entries.map((entry) => entry.when));
  const table = `${config.migrationsSchema}.${config.migrationsTable}`;
  const { rows } = await pg.query<{ last: string | null }>(
    `SELECT max(created_at)::text AS last FROM ${table}`,
  );
  const last = rows[0]?.last;
  return last === null || last === undefined || Number(last) < newest;
}

/**
 * A directory without a cluster gets one: planted from the seed, or (no seed that fits) left
 * empty for PGlite's initdb, after which `migrate()` applies every migration. Monthly partitions
 * are not planted: the writer makes each month's with its first record (making the migration's
 * five months ahead would double a first run).
 */
async function makeCluster(directory: string, option: string | null | undefined): Promise<void> {
  await clearIncompleteStore(directory);
  const seed = await chooseSeed(option);
  if (seed !== null) await plantSeed(seed, directory);
}

async function chooseSeed(option: string | null | undefined): Promise<Seed | null> {
  if (option === null) return null;
  if (option !== undefined) return loadSeed(option);
  return findSeed();
}

/**
 * A store directory without `PG_VERSION` holds no cluster: whatever is in it (but the lock) is
 * what an interrupted first run left, and goes before the cluster is made again.
 */
async function clearIncompleteStore(directory: string): Promise<void> {
  for (const name of await readdir(directory)) {
    if (name === LOCK_FILE || name === LOCK_OWNER_FILE) continue;
    await rm(join(directory, name), { recursive: true, force: true });
  }
}
