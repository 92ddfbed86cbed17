import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationTags } from '../src/store/migrations.js';
import { openAuditStore } from '../src/store/open-store.js';
import { findMissingProtections, ProtectionsMissingError } from '../src/store/protections.js';
import { REPO_ROOT, runCli } from './support/cli.js';
import { testDatabaseUrl } from './support/postgres.js';
import { scratchDir } from './support/stores.js';

/**
 * A host app with its own drizzle schema and real drizzle-kit 0.31, against real Postgres, in
 * both orders with aitrail's migrations. The host's schema file is next to a drizzle config in a
 * scratch directory that resolves packages from this repo.
 */
const AITRAIL_SCHEMA = `${REPO_ROOT}src/store/schema.ts`;
const HOST_SCHEMA = `import { pgTable, serial, text } from 'drizzle-orm/pg-core';
export const invoices = pgTable('invoices', {
  id: serial('id').primaryKey(),
  customer: text('customer').notNull(),
});
`;
/** The documented way to keep drizzle-kit push and pull away from aitrail's tables. */
const AITRAIL_TABLES_FILTER = [
  '!audit_logs',
  '!audit_logs_*',
  '!audit_personal_data',
  '!audit_personal_data_*',
  '!audit_checkpoints',
  '!audit_reader_tenants',
  '!audit_erasures',
  '!audit_legal_holds',
  '!audit_retention_policies',
  '!audit_prunes',
];

interface HostApp {
  dir: string;
  /** Runs `drizzle-kit <command>` with the named config file; resolves with its output. */
  kit(command: string[], config: string): Promise<{ code: number; output: string }>;
}

function hostApp(): HostApp {
  const dir = scratchDir('aitrail-host-app-');
  symlinkSync(`${REPO_ROOT}node_modules`, join(dir, 'node_modules'));
  writeFileSync(join(dir, 'schema.ts'), HOST_SCHEMA);
  mkdirSync(join(dir, 'drizzle'));
  return {
    dir,
    kit(command, config) {
      return new Promise((resolve) => {
        execFile(
          process.execPath,
          [`${REPO_ROOT}node_modules/drizzle-kit/bin.cjs`, ...command, '--config', config],
          { cwd: dir, timeout: 90_000 },
          (error, stdout, stderr) => {
            const code = error ? Number((error as { code?: unknown }).code ?? 1) || 1 : 0;
            resolve({ code, output: `${stdout}${stderr}` });
          },
        );
      });
    },
  };
}

function writeConfig(
  app: HostApp,
  name: string,
  options: {
    url: string;
    withAitrailSchema: boolean;
    out?: string;
    filter?: boolean;
    tablesFilter?: string[];
  },
): string {
  const schema = options.withAitrailSchema ? ['./schema.ts', AITRAIL_SCHEMA] : ['./schema.ts'];
  const config = {
    dialect: 'postgresql',
    schema,
    out: options.out ?? './drizzle',
    dbCredentials: { url: options.url },
    ...(options.filter ? { tablesFilter: AITRAIL_TABLES_FILTER } : {}),
    ...(options.tablesFilter ? { tablesFilter: options.tablesFilter } : {}),
  };
  const file = `${name}.config.ts`;
  writeFileSync(
    join(app.dir, file),
    `import { defineConfig } from 'drizzle-kit';\nexport default defineConfig(${JSON.stringify(config)});\n`,
  );
  return file;
}

async function protectionsOf(url: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await findMissingProtections((text) => sql.unsafe(text) as never);
  } finally {
    await sql.end();
  }
}

async function aitrailMigrate(url: string): Promise<void> {
  const store = await openAuditStore({ databaseUrl: url });
  await store.close();
}

async function sqlOn<T>(url: string, text: string): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await sql.unsafe(text)) as unknown as T[];
  } finally {
    await sql.end();
  }
}

describe('a host app that runs drizzle-kit next to aitrail', () => {
  let app: HostApp;

  beforeAll(() => {
    app = hostApp();
  });
  afterAll(() => {
    rmSync(app.dir, { recursive: true, force: true });
  });

  it('host migrations generated with aitrail/schema first, then aitrail: rows cannot be deleted and RLS is forced', async () => {
    const url = await testDatabaseUrl();
    const config = writeConfig(app, 'with-aitrail', {
      url,
      withAitrailSchema: true,
      out: './drizzle-with-aitrail',
    });
    const generated = await app.kit(['generate'], config);
    expect(generated.output).toContain('audit_logs');
    expect(generated.code).toBe(0);
    const migrated = await app.kit(['migrate'], config);
    expect(migrated.code).toBe(0);
    // drizzle-kit made the tables from the schema: no triggers, no RLS.
    expect(await protectionsOf(url)).toContain('row-level security forced on audit_logs');

    await aitrailMigrate(url);
    await sqlOn(
      url,
      `INSERT INTO audit_logs (id, event_id, occurred_at, actor_type, actor_id, action, outcome,
         trace_id, span_id, chain_id, chain_seq, prev_hash, hash)
       VALUES (gen_random_uuid(), 'e1', now(), 'user', 'u', 'a', 'success', 't', 's', 'c', 1, 'p', 'h')`,
    );
    await expect(sqlOn(url, 'DELETE FROM audit_logs')).rejects.toThrow(/append-only: DELETE/);
    const [flags] = await sqlOn<{ rls: boolean; forced: boolean }>(
      url,
      "SELECT relrowsecurity AS rls, relforcerowsecurity AS forced FROM pg_class WHERE relname = 'audit_logs'",
    );
    expect(flags).toEqual({ rls: true, forced: true });
    expect(await protectionsOf(url)).toEqual([]);
  });

  it('aitrail first, then the host, configured as documented (own schema, tablesFilter): migrate and push both succeed and nothing is removed', async () => {
    const url = await testDatabaseUrl();
    await aitrailMigrate(url);
    const config = writeConfig(app, 'documented', {
      url,
      withAitrailSchema: false,
      out: './drizzle-own',
      filter: true,
    });
    expect((await app.kit(['generate'], config)).code).toBe(0);
    const migrated = await app.kit(['migrate'], config);
    expect(migrated.output).not.toMatch(/error/i);
    expect(migrated.code).toBe(0);
    const pushed = await app.kit(['push', '--force'], config);
    expect(pushed.output).not.toMatch(/DISABLE ROW LEVEL SECURITY|DROP POLICY|DROP TABLE/);
    expect(pushed.code).toBe(0);
    expect(await sqlOn(url, 'SELECT count(*)::int AS n FROM invoices')).toEqual([{ n: 0 }]);
    expect(await protectionsOf(url)).toEqual([]);
  });

  it('host migrations with only its own tables first, then aitrail: aitrail creates and protects its tables', async () => {
    const url = await testDatabaseUrl();
    const config = writeConfig(app, 'own-first', {
      url,
      withAitrailSchema: false,
      out: './drizzle-own-first',
    });
    expect((await app.kit(['generate'], config)).code).toBe(0);
    expect((await app.kit(['migrate'], config)).code).toBe(0);
    const result = await runCli(['migrate', '--database-url', url]);
    expect(result.stderr).toMatch(
      new RegExp(`\\(${migrationTags().length} new\\); protections verified`),
    );
    expect(result.code).toBe(0);
    expect(await protectionsOf(url)).toEqual([]);
    await expect(sqlOn(url, 'TRUNCATE audit_logs')).rejects.toThrow(/append-only: TRUNCATE/);
  });

  it('drizzle-kit push with aitrail/schema and no tablesFilter cannot see the partitioned tables; when RLS is stripped aitrail refuses to start, and --reinstall-protections restores it', async () => {
    const url = await testDatabaseUrl();
    await aitrailMigrate(url);
    // The host's own table exists already, so push has nothing to create (and asks nothing).
    await sqlOn(
      url,
      'CREATE TABLE invoices (id serial PRIMARY KEY NOT NULL, customer text NOT NULL)',
    );
    // drizzle-kit 0.31 lists the partitions of audit_logs and audit_personal_data as tables but
    // not their partitioned parents, so it offers to "create or rename" audit_logs and, with no
    // terminal to answer, exits 0 having changed nothing.
    const config = writeConfig(app, 'push-unfiltered', { url, withAitrailSchema: true });
    const pushed = await app.kit(['push', '--force'], config);
    expect(pushed.code).toBe(0);
    expect(await protectionsOf(url)).toEqual([]);
    // What push does to a table it does see, for a schema that declares no RLS and no policies
    // (drizzle-kit's own statements), on the parent, on a partition and on the vault.
    await sqlOn(
      url,
      `ALTER TABLE audit_logs DISABLE ROW LEVEL SECURITY;
       DROP POLICY audit_logs_tenant_read ON audit_logs;
       ALTER TABLE audit_logs_default DISABLE ROW LEVEL SECURITY;
       ALTER TABLE audit_personal_data DISABLE ROW LEVEL SECURITY;
       DROP TRIGGER audit_personal_data_no_truncate ON audit_personal_data_default;`,
    );
    const [flags] = await sqlOn<{ rls: boolean }>(
      url,
      "SELECT relrowsecurity AS rls FROM pg_class WHERE relname = 'audit_logs'",
    );
    expect(flags).toEqual({ rls: false });

    const refused = await openAuditStore({ databaseUrl: url }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProtectionsMissingError);
    expect((refused as ProtectionsMissingError).code).toBe('PROTECTIONS_MISSING');
    expect((refused as ProtectionsMissingError).missing).toEqual(
      expect.arrayContaining([
        'row-level security enabled on audit_logs',
        'policy audit_logs_tenant_read on audit_logs',
        'row-level security enabled on audit_logs_default',
        'row-level security enabled on audit_personal_data',
        'no-truncate trigger on audit_personal_data_default',
      ]),
    );
    const repaired = await runCli(['migrate', '--database-url', url, '--reinstall-protections']);
    expect(repaired.stderr).toContain('protections reinstalled');
    expect(repaired.code).toBe(0);
    expect(await protectionsOf(url)).toEqual([]);
  });

  it('host migrations that contain aitrail tables cannot run after aitrail created them: they must run first', async () => {
    const url = await testDatabaseUrl();
    await aitrailMigrate(url);
    const config = writeConfig(app, 'late-host', {
      url,
      withAitrailSchema: true,
      out: './drizzle-late',
    });
    expect((await app.kit(['generate'], config)).code).toBe(0);
    // drizzle-kit 0.31 exits 1 without printing the cause (relation "audit_checkpoints" already
    // exists), and rolls the host's migration back.
    expect((await app.kit(['migrate'], config)).code).toBe(1);
    expect(await sqlOn(url, "SELECT to_regclass('invoices') IS NULL AS absent")).toEqual([
      { absent: true },
    ]);
    expect(await protectionsOf(url)).toEqual([]);
  });
});
