import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { AuditDatabase, AuditStore } from './audit-store.js';
import {
  describeMigrationFailure,
  MIGRATION_LOCK_KEY,
  type MigrateOptions,
  type MigrationResult,
  runMigrations,
} from './migrations.js';
import { PostgresConnection, type PostgresStoreOptions } from './postgres-connection.js';
import * as schema from './schema.js';

export { type PostgresStoreOptions, redactUrl } from './postgres-connection.js';

/** Postgres through postgres.js: the writing connection, plus drizzle and migrations. */
export class PostgresStore extends PostgresConnection implements AuditStore {
  private database: AuditDatabase;

  constructor(options: PostgresStoreOptions) {
    super(options);
    this.database = drizzle(this.sql, { schema }) as unknown as AuditDatabase;
  }

  get db(): AuditDatabase {
    return this.database;
  }

  override async recycle(): Promise<void> {
    const recycled = super.recycle();
    this.database = drizzle(this.sql, { schema }) as unknown as AuditDatabase;
    await recycled;
  }

  async migrate(options: MigrateOptions = {}): Promise<MigrationResult> {
    // One dedicated connection, so the session-level advisory lock covers drizzle's transaction.
    const sql = postgres(this.options.url, {
      max: 1,
      onnotice: () => {},
      connect_timeout: 10,
      // Migrations bind no arrays; the driver's unawaited type fetch could only crash the host.
      fetch_types: false,
    });
    try {
      await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`;
      return await runMigrations(
        (statement) => sql.unsafe(statement) as unknown as Promise<Array<Record<string, unknown>>>,
        (config) => migrate(drizzle(sql), config),
        this.location,
        options,
      );
    } catch (error) {
      throw describeMigrationFailure(this.location, error);
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
}
