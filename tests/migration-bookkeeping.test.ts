import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/store/canonical-json.js';
import { HashChain } from '../src/store/hash-chain.js';
import { migrationTags, PROTECTION_MIGRATIONS } from '../src/store/migrations.js';
import { openAuditStore } from '../src/store/open-store.js';
import { findMissingProtections, ProtectionsMissingError } from '../src/store/protections.js';
import { REPO_ROOT, runCli } from './support/cli.js';
import { testDatabaseUrl } from './support/postgres.js';
import { makeRecord } from './support/records.js';
import { scratchDir } from './support/stores.js';

/** The migrations of release 0.1.0, which recorded them in drizzle.__drizzle_migrations. */
const RELEASED_MIGRATIONS = `${REPO_ROOT}tests/fixtures/migrations-0.1.0`;
/** How many migrations release 0.1.0 shipped, and how many this release ships. */
const RELEASED_COUNT = 4;
const MIGRATION_COUNT = migrationTags().length;

async function withSql<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

/** Rows as release 0.1.0 wrote them: its columns only (no vault, no subject_id). */
async function writeRows(url: string, chainId: string, count: number): Promise<void> {
  const chain = new HashChain(chainId);
  const rows = Array.from({ length: count }, (_, i) => {
    const record = makeRecord(i);
    return chain.seal(record, canonicalJson(record.metadata));
  });
  await withSql(url, async (sql) => {
    for (const row of rows) {
      await sql`INSERT INTO audit_logs (id, event_id, occurred_at, actor_type, actor_id, action,
          outcome, metadata, trace_id, span_id, chain_id, chain_seq, prev_hash, hash)
        VALUES (gen_random_uuid(), ${row.eventId}, ${row.occurredAt}, ${row.actorType},
          ${row.actorId}, ${row.action}, ${row.outcome}, ${sql.json(row.metadata as never)},
          ${row.traceId}, ${row.spanId}, ${row.chainId}, ${row.chainSeq}, ${row.prevHash},
          ${row.hash})`;
    }
  });
}

describe('aitrail keeps its own migration bookkeeping', () => {
  it('records its migrations in aitrail.migrations and leaves drizzle.__drizzle_migrations alone', async () => {
    const url = await testDatabaseUrl();
    const store = await openAuditStore({ databaseUrl: url, migrate: false });
    try {
      const first = await store.migrate();
      expect(first).toEqual({ applied: MIGRATION_COUNT, adopted: 0, reinstalled: 0 });
      expect(await store.migrate()).toEqual({ applied: 0, adopted: 0, reinstalled: 0 });
      const [tables] = await store.query<{ own: boolean; shared: boolean }>(
        `SELECT to_regclass('aitrail.migrations') IS NOT NULL AS own,
                to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS shared`,
      );
      expect(tables).toEqual({ own: true, shared: false });
    } finally {
      await store.close();
    }
  });

  it('adopts what the current release recorded in drizzle.__drizzle_migrations and does not run 0000 again', async () => {
    const url = await testDatabaseUrl();
    await withSql(url, (sql) => migrate(drizzle(sql), { migrationsFolder: RELEASED_MIGRATIONS }));
    await writeRows(url, 'released-chain', 7);

    const store = await openAuditStore({ databaseUrl: url, migrate: false });
    try {
      expect(await store.migrate()).toEqual({
        applied: MIGRATION_COUNT - RELEASED_COUNT,
        adopted: RELEASED_COUNT,
        reinstalled: 0,
      });
      const [rows] = await store.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM audit_logs WHERE chain_id = 'released-chain'",
      );
      expect(rows?.n).toBe(7);
      // The host's table is left as it was: 4 rows, aitrail writes no more there.
      const [shared] = await store.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations',
      );
      expect(shared?.n).toBe(RELEASED_COUNT);
      expect(await findMissingProtections((text) => store.query(text))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('runs every migration when the host created the tables itself and drizzle has no record of aitrail', async () => {
    const url = await testDatabaseUrl();
    await withSql(url, async (sql) => {
      // What drizzle-kit generates from aitrail/schema: the tables, no triggers, no RLS.
      await sql.unsafe(`
        CREATE SCHEMA drizzle;
        CREATE TABLE drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint);
        INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('host', 1900000000000);
      `);
      const statements = readFileSync(`${REPO_ROOT}src/store/migrations/0000_init.sql`, 'utf8');
      await sql.unsafe(statements.replaceAll('--> statement-breakpoint', ''));
      await sql.unsafe(
        'ALTER TABLE audit_checkpoints ADD COLUMN final boolean DEFAULT false NOT NULL',
      );
    });
    const store = await openAuditStore({ databaseUrl: url, migrate: false });
    try {
      expect(await store.migrate()).toEqual({
        applied: MIGRATION_COUNT,
        adopted: 0,
        reinstalled: 0,
      });
      await expect(store.query('DELETE FROM audit_logs')).rejects.toThrow(/append-only: DELETE/);
    } finally {
      await store.close();
    }
  });
});

describe('the protection check', () => {
  let url: string;

  beforeAll(async () => {
    url = await testDatabaseUrl();
    await (await openAuditStore({ databaseUrl: url })).close();
  });

  async function breakAndCheck(statements: string, expected: string[]): Promise<void> {
    await withSql(url, (sql) => sql.unsafe(statements).simple());
    const store = await openAuditStore({ databaseUrl: url, migrate: false });
    try {
      const error = await store.migrate().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProtectionsMissingError);
      expect((error as ProtectionsMissingError).code).toBe('PROTECTIONS_MISSING');
      expect((error as ProtectionsMissingError).missing).toEqual(expected);
      expect(await store.migrate({ reinstallProtections: true })).toMatchObject({
        reinstalled: PROTECTION_MIGRATIONS.length,
      });
      expect(await findMissingProtections((text) => store.query(text))).toEqual([]);
    } finally {
      await store.close();
    }
  }

  it('names a disabled append-only trigger and a dropped no-truncate trigger', async () => {
    await breakAndCheck(
      `ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only;
       DROP TRIGGER audit_checkpoints_no_truncate ON audit_checkpoints;`,
      [
        'append-only trigger (UPDATE, DELETE) on audit_logs (audit_logs_append_only disabled)',
        'no-truncate trigger on audit_checkpoints',
      ],
    );
  });

  it('names row-level security that is off or not forced, and a policy that was dropped', async () => {
    await breakAndCheck(
      `ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY;
       ALTER TABLE audit_checkpoints DISABLE ROW LEVEL SECURITY;
       DROP POLICY audit_logs_tenant_read ON audit_logs;`,
      [
        'row-level security forced on audit_logs',
        'row-level security enabled on audit_checkpoints',
        'policy audit_logs_tenant_read on audit_logs',
      ],
    );
  });

  it('names grants that let another role remove rows', async () => {
    await breakAndCheck('GRANT DELETE, TRUNCATE ON audit_logs TO PUBLIC;', [
      'no DELETE on audit_logs for PUBLIC',
      'no TRUNCATE on audit_logs for PUBLIC',
    ]);
  });

  it('refuses an extra permissive read policy, which reinstalling does not remove', async () => {
    await withSql(url, (sql) =>
      sql.unsafe('CREATE POLICY everything ON audit_logs FOR SELECT USING (true)').simple(),
    );
    const missing = await withSql(url, (sql) =>
      findMissingProtections((text) => sql.unsafe(text) as never),
    );
    expect(missing).toEqual(['no other permissive read policy on audit_logs (found everything)']);
    await withSql(url, (sql) => sql.unsafe('DROP POLICY everything ON audit_logs').simple());
  });

  it('checks every partition of a partitioned audit_logs: forced RLS and both triggers', async () => {
    const partitioned = await testDatabaseUrl();
    await withSql(partitioned, async (sql) => {
      await sql
        .unsafe(`
          CREATE FUNCTION aitrail_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'append-only'; END $$;
          CREATE TABLE audit_logs (id uuid, occurred_at timestamptz NOT NULL, tenant_id text)
            PARTITION BY RANGE (occurred_at);
          CREATE TABLE audit_logs_2026_11 PARTITION OF audit_logs
            FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
          CREATE TABLE audit_logs_2026_12 PARTITION OF audit_logs
            FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');
          CREATE TABLE audit_checkpoints (id uuid);
          CREATE TABLE audit_reader_tenants (role_name text, tenant_id text);
          CREATE POLICY audit_logs_tenant_read ON audit_logs FOR SELECT USING (false);
          CREATE POLICY audit_logs_insert ON audit_logs FOR INSERT WITH CHECK (true);
          CREATE POLICY audit_checkpoints_insert ON audit_checkpoints FOR INSERT WITH CHECK (true);
          DO $$
          DECLARE t text;
          BEGIN
            FOREACH t IN ARRAY ARRAY['audit_logs', 'audit_checkpoints', 'audit_logs_2026_11', 'audit_logs_2026_12'] LOOP
              EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change()', t || '_append_only', t);
              EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION aitrail_reject_change()', t || '_no_truncate', t);
              EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
              EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
            END LOOP;
          END $$;
        `)
        .simple();
      const check = () => findMissingProtections((text) => sql.unsafe(text) as never);
      expect(await check()).toEqual([]);
      await sql
        .unsafe(`
          ALTER TABLE audit_logs_2026_12 NO FORCE ROW LEVEL SECURITY;
          DROP TRIGGER audit_logs_2026_11_no_truncate ON audit_logs_2026_11;
          GRANT SELECT ON audit_logs_2026_12 TO PUBLIC;
        `)
        .simple();
      expect(await check()).toEqual([
        'no-truncate trigger on audit_logs_2026_11',
        'row-level security forced on audit_logs_2026_12',
        'no SELECT on audit_logs_2026_12 for PUBLIC',
      ]);
    });
  });
});

describe('aitrail migrate reports only what is true', () => {
  it('exits 2 with a reason as a read-only role, and prints no success', async () => {
    const url = await testDatabaseUrl();
    const role = `ro_${randomBytes(4).toString('hex')}`;
    await withSql(url, (sql) =>
      sql
        .unsafe(
          `CREATE ROLE ${role} LOGIN PASSWORD 'local_only'; ALTER ROLE ${role} SET default_transaction_read_only = on;`,
        )
        .simple(),
    );
    const readOnly = new URL(url);
    readOnly.username = role;
    readOnly.password = 'local_only';
    const result = await runCli(['migrate', '--database-url', readOnly.toString()]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`role "${role}" may not migrate`));
    expect(result.stderr).not.toContain('migrations applied');
  });

  it('refuses to start a role that may not migrate when the tables do not exist', async () => {
    const url = await testDatabaseUrl();
    const role = `w_${randomBytes(4).toString('hex')}`;
    await withSql(url, (sql) =>
      sql.unsafe(`CREATE ROLE ${role} LOGIN PASSWORD 'local_only'`).simple(),
    );
    await withSql(url, (sql) =>
      sql
        .unsafe(
          `REVOKE CREATE ON DATABASE ${new URL(url).pathname.slice(1)} FROM PUBLIC; REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
        )
        .simple(),
    );
    const writer = new URL(url);
    writer.username = role;
    writer.password = 'local_only';
    const error = await openAuditStore({ databaseUrl: writer.toString() }).catch((e) => e);
    expect(error).toBeInstanceOf(ProtectionsMissingError);
    expect(error.code).toBe('TABLES_MISSING');
    expect(error.message).toContain('table audit_logs does not exist');
  });

  it('says what it applied and that the protections were verified, on the embedded store too', async () => {
    const dataDir = scratchDir();
    try {
      const result = await runCli(['migrate'], { env: { AITRAIL_DATA_DIR: dataDir } });
      expect(result.code).toBe(0);
      // A new embedded store is planted from the pre-migrated seed (0 new) or, without one,
      // migrated here (all new): either way it ends with every migration recorded.
      expect(result.stderr).toMatch(
        new RegExp(
          `migrations applied to .* \\((0|${MIGRATION_COUNT}) new\\); protections verified`,
        ),
      );
      const store = await openAuditStore({ dataDir, migrate: false });
      try {
        const [row] = await store.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM aitrail.migrations',
        );
        expect(row?.n).toBe(MIGRATION_COUNT);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
