import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MigrationConfig } from 'drizzle-orm/migrator';
import { AitrailError, adviceFor, describeWithAdvice } from '../errors.js';
import { assertProtections } from './protections.js';

/** Generated and hand-written migrations ship next to this module (copied into dist by the build). */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/** Serialises concurrent `migrate()` calls across processes (an arbitrary 64-bit constant). */
export const MIGRATION_LOCK_KEY = 7_305_146_823_551_208n;

/**
 * aitrail records its migrations in a table of its own, so a host app's drizzle-kit (which
 * uses `drizzle.__drizzle_migrations` and decides by the newest timestamp there) can neither
 * skip nor repeat them, whichever runs first.
 */
// `satisfies`, not an annotation: the declarations then name no drizzle-orm type, so
// `aitrail/store` (whose AuditStore types import this module) type-checks without loading drizzle.
export const MIGRATION_CONFIG = {
  migrationsFolder: MIGRATIONS_FOLDER,
  migrationsSchema: 'aitrail',
  migrationsTable: 'migrations',
} satisfies MigrationConfig;

/**
 * The migrations that install protections; each is idempotent, so `aitrail migrate
 * --reinstall-protections` runs them again, in this order, after something removed one.
 */
export const PROTECTION_MIGRATIONS = [
  '0001_append_only_and_tenant_isolation',
  '0003_writer_checkpoint_grant',
  '0006_least_privilege_and_tenant_readers',
  '0008_vault_tenant_readers',
] as const;

/**
 * Run after the protection migrations on a reinstall: what 0004 gave the partitioned tables
 * (statement triggers and forced RLS on every partition, which partitions do not inherit, and
 * the vault's own triggers, RLS and insert policy). Idempotent; skipped before 0004.
 */
export const PARTITION_PROTECTIONS = `DO $$
DECLARE
  part record;
BEGIN
  IF to_regclass('audit_personal_data') IS NULL
     OR to_regprocedure('aitrail_protect_partition(text,text)') IS NULL THEN
    RETURN;
  END IF;
  CREATE OR REPLACE TRIGGER audit_personal_data_erase_only BEFORE UPDATE ON audit_personal_data
    FOR EACH ROW EXECUTE FUNCTION aitrail_vault_guard();
  CREATE OR REPLACE TRIGGER audit_personal_data_no_truncate BEFORE TRUNCATE ON audit_personal_data
    FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change();
  ALTER TABLE audit_personal_data ENABLE ROW LEVEL SECURITY;
  DROP POLICY IF EXISTS audit_personal_data_insert ON audit_personal_data;
  CREATE POLICY audit_personal_data_insert ON audit_personal_data FOR INSERT WITH CHECK (true);
  FOR part IN
    SELECT c.relname::text AS name, p.relname::text AS parent
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.oid IN ('audit_logs'::regclass, 'audit_personal_data'::regclass)
  LOOP
    PERFORM aitrail_protect_partition(part.name, part.parent);
  END LOOP;
END
$$`;

/** The tags of aitrail's migrations, in order (from the journal). */
export function migrationTags(): string[] {
  return journal().map((entry) => entry.tag);
}

/** Runs one SQL statement (no parameters) on the migrating connection. */
export type StatementRunner = (statement: string) => Promise<Array<Record<string, unknown>>>;

/** What a migration run did. */
export interface MigrationResult {
  /** Migrations applied by this run. */
  applied: number;
  /** Migrations found in drizzle's shared table (recorded there by an earlier release) and adopted. */
  adopted: number;
  /** Protection migrations run again (`reinstallProtections`). */
  reinstalled: number;
}

/** Applying or checking the schema migrations failed (`code` `MIGRATION_FAILED`). */
export class MigrationError extends AitrailError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MIGRATION_FAILED', message, options);
    this.name = 'MigrationError';
  }
}

interface JournalEntry {
  tag: string;
  when: number;
}

function journal(): JournalEntry[] {
  const text = readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8');
  return (JSON.parse(text) as { entries: JournalEntry[] }).entries;
}

/**
 * Creates aitrail's bookkeeping table and, the first time, adopts what an earlier release
 * recorded in drizzle's shared table: the rows whose timestamps are aitrail's own migrations,
 * when aitrail's tables exist. Returns the number adopted. Runs under the migration lock.
 */
export async function prepareBookkeeping(run: StatementRunner): Promise<number> {
  const table = `${MIGRATION_CONFIG.migrationsSchema}.${MIGRATION_CONFIG.migrationsTable}`;
  await run(`CREATE SCHEMA IF NOT EXISTS ${MIGRATION_CONFIG.migrationsSchema}`);
  await run(
    `CREATE TABLE IF NOT EXISTS ${table} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`,
  );
  const [state] = await run(
    `SELECT (SELECT count(*) FROM ${table})::int AS own,
       to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS legacy,
       to_regclass('audit_logs') IS NOT NULL AS tables`,
  );
  if (!state || Number(state.own) > 0 || !state.legacy || !state.tables) return 0;
  const whens = journal()
    .map((entry) => Math.trunc(entry.when))
    .join(',');
  const adopted = await run(
    `INSERT INTO ${table} (hash, created_at)
       SELECT hash, created_at FROM drizzle.__drizzle_migrations
       WHERE created_at IN (${whens}) ORDER BY created_at
     RETURNING id`,
  );
  return adopted.length;
}

/** How many migrations aitrail's bookkeeping holds. */
export async function countApplied(run: StatementRunner): Promise<number> {
  const [row] = await run(
    `SELECT count(*)::int AS n FROM ${MIGRATION_CONFIG.migrationsSchema}.${MIGRATION_CONFIG.migrationsTable}`,
  );
  return Number(row?.n ?? 0);
}

/** The statements of one migration file, split at drizzle's breakpoints. */
export function migrationStatements(tag: string): string[] {
  return readFileSync(`${MIGRATIONS_FOLDER}/${tag}.sql`, 'utf8')
    .split('--> statement-breakpoint')
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

/**
 * A failure while migrating, with advice chosen from its classified cause (connection,
 * credentials, privileges, ...); an `AitrailError` raised on purpose passes through.
 */
export function describeMigrationFailure(location: string, cause: unknown): AitrailError {
  if (cause instanceof AitrailError) return cause;
  const message = describeWithAdvice(`applying migrations to ${location} failed`, cause);
  return new MigrationError(
    adviceFor(cause) === ''
      ? `${message} Run \`aitrail migrate\` with a role that owns the schema, then start with \`migrate: false\`.`
      : message,
    { cause },
  );
}

export interface MigrateOptions {
  /** Run the protection migrations again (after something outside aitrail removed one). */
  reinstallProtections?: boolean;
}

/**
 * One migration run on one connection: bookkeeping (and adoption), drizzle's migrator over
 * aitrail's own table, optionally the protection migrations again, then the protection check.
 * The caller holds the migration lock and turns failures into a `MigrationError`.
 */
export async function runMigrations(
  run: StatementRunner,
  applyPending: (config: typeof MIGRATION_CONFIG) => Promise<void>,
  location: string,
  options: MigrateOptions = {},
): Promise<MigrationResult> {
  const adopted = await prepareBookkeeping(run);
  const before = await countApplied(run);
  await applyPending(MIGRATION_CONFIG);
  const applied = (await countApplied(run)) - before;
  let reinstalled = 0;
  if (options.reinstallProtections) {
    await run('BEGIN');
    try {
      for (const tag of PROTECTION_MIGRATIONS) {
        for (const statement of migrationStatements(tag)) await run(statement);
        reinstalled += 1;
      }
      await run(PARTITION_PROTECTIONS);
      await run('COMMIT');
    } catch (error) {
      await run('ROLLBACK').catch(() => {});
      throw error;
    }
  }
  await assertProtections((text) => run(text) as never, location);
  return { applied, adopted, reinstalled };
}
