import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAitrailError } from '../src/errors.js';
import type { AuditStore } from '../src/store/audit-store.js';
import { canonicalJson } from '../src/store/canonical-json.js';
import { LOCK_FILE, LOCK_OWNER_FILE } from '../src/store/directory-lock.js';
import { HashChain } from '../src/store/hash-chain.js';
import { UNNEST_INSERT_SQL, unnestParameters } from '../src/store/insert-sql.js';
import { MIGRATION_CONFIG, migrationTags, runMigrations } from '../src/store/migrations.js';
import { openAuditStore } from '../src/store/open-store.js';
import {
  expectedSeedManifest,
  findSeed,
  loadSeed,
  type SeedManifest,
} from '../src/store/pglite-seed.js';
import { buildPgliteSeed } from '../src/store/pglite-seed-build.js';
import { PgliteStore } from '../src/store/pglite-store.js';
import { currentProcessIdentity } from '../src/store/process-alive.js';
import { findMissingProtections } from '../src/store/protections.js';
import { packArchive, readArchive } from '../src/store/seed-archive.js';
import { compiledEntry, REPO_ROOT, runTs } from './support/cli.js';
import { makeRecord } from './support/records.js';
import { scratchDir } from './support/stores.js';

const MIGRATION_COUNT = migrationTags().length;
const RELEASED_MIGRATIONS = `${REPO_ROOT}tests/fixtures/migrations-0.1.0`;
const RELEASED_COUNT = 4;
const USER_SCHEMAS = `NOT IN ('pg_catalog', 'information_schema', 'pg_toast')`;

/**
 * What a store is made of, beyond its rows: every relation, column, index, constraint, trigger,
 * function, policy, role, schema, grant and extension, and aitrail's migration bookkeeping.
 * Names and definitions only (no oids), so two clusters compare.
 */
async function catalog(store: AuditStore): Promise<Record<string, Record<string, unknown>[]>> {
  const q = (text: string) => store.query<Record<string, unknown>>(text);
  return {
    relations: await q(`SELECT n.nspname, c.relname, c.relkind, c.relpersistence, c.relrowsecurity,
        c.relforcerowsecurity, c.relispartition, pg_get_expr(c.relpartbound, c.oid) AS bound,
        c.relacl::text AS acl, c.reloptions::text AS options
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname ${USER_SCHEMAS} ORDER BY 1, 2`),
    columns: await q(`SELECT table_schema, table_name, column_name, ordinal_position, data_type,
        column_default, is_nullable, is_generated, generation_expression
      FROM information_schema.columns WHERE table_schema ${USER_SCHEMAS} ORDER BY 1, 2, 4`),
    indexes: await q(`SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes
      WHERE schemaname ${USER_SCHEMAS} ORDER BY 1, 2, 3`),
    constraints: await q(`SELECT conrelid::regclass::text AS rel, conname,
        pg_get_constraintdef(c.oid) AS def
      FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
      WHERE n.nspname ${USER_SCHEMAS} ORDER BY 1, 2`),
    triggers: await q(`SELECT tgrelid::regclass::text AS rel, tgname, tgenabled,
        pg_get_triggerdef(oid) AS def
      FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2`),
    functions:
      await q(`SELECT p.oid::regprocedure::text AS signature, pg_get_functiondef(p.oid) AS def,
        p.proacl::text AS acl, p.prosecdef
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname ${USER_SCHEMAS} ORDER BY 1`),
    policies: await q(`SELECT schemaname, tablename, policyname, permissive, roles::text, cmd,
        qual, with_check FROM pg_policies ORDER BY 1, 2, 3`),
    roles: await q(`SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
        rolbypassrls FROM pg_roles ORDER BY 1`),
    schemas: await q(`SELECT nspname, nspacl::text AS acl FROM pg_namespace
      WHERE nspname ${USER_SCHEMAS} ORDER BY 1`),
    defaultPrivileges: await q(`SELECT defaclrole::regrole::text, defaclobjtype, defaclacl::text
      FROM pg_default_acl ORDER BY 1, 2`),
    extensions: await q('SELECT extname, extversion FROM pg_extension ORDER BY 1'),
    eventTriggers: await q('SELECT evtname, evtevent, evtenabled FROM pg_event_trigger ORDER BY 1'),
    bookkeeping: await q('SELECT id, hash, created_at::text FROM aitrail.migrations ORDER BY id'),
  };
}

async function systemIdentifier(store: AuditStore): Promise<string> {
  const [row] = await store.query<{ id: string }>(
    'SELECT system_identifier::text AS id FROM pg_control_system()',
  );
  return String(row?.id);
}

async function withStore<T>(
  directory: string,
  seed: string | null | undefined,
  fn: (store: PgliteStore) => Promise<T>,
): Promise<T> {
  const store = await PgliteStore.open(directory, seed === undefined ? {} : { seed });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function sealed(chainId: string, count: number) {
  const chain = new HashChain(chainId);
  return Array.from({ length: count }, (_, i) => {
    const record = makeRecord(i);
    return chain.seal(record, canonicalJson(record.metadata));
  });
}

describe('a store planted from the seed', () => {
  let root: string;
  let seedFile: string;

  beforeAll(async () => {
    root = scratchDir('aitrail-embedded-');
    seedFile = join(root, 'seed.bin');
    writeFileSync(seedFile, await buildPgliteSeed());
  }, 300_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is identical in schema, protections and migration bookkeeping to a freshly migrated one', async () => {
    const fresh = await withStore(join(root, 'fresh'), null, async (store) => {
      expect(await store.migrate()).toEqual({
        applied: MIGRATION_COUNT,
        adopted: 0,
        reinstalled: 0,
      });
      return catalog(store);
    });
    const planted = await withStore(join(root, 'planted'), seedFile, async (store) => {
      expect(await store.migrate()).toEqual({ applied: 0, adopted: 0, reinstalled: 0 });
      expect(await findMissingProtections((text) => store.query(text))).toEqual([]);
      // Months are made as records arrive; migration 0004 made the months around its own run,
      // so the planted store is given the same ones before the comparison.
      const [dated] = await store.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_class WHERE relname ~ '_p\\d{4}_\\d{2}$'`,
      );
      expect(dated?.n).toBe(0);
      await store.query(`SELECT aitrail_ensure_partitions(now() - interval '1 month', 5)`);
      return catalog(store);
    });
    expect(planted.bookkeeping).toHaveLength(MIGRATION_COUNT);
    expect(planted.relations?.map((r) => r.relname)).toContain('audit_logs_default');
    for (const part of Object.keys(fresh)) {
      expect({ [part]: planted[part] }).toEqual({ [part]: fresh[part] });
    }
  });

  it('has a system identifier of its own, as initdb would give it', async () => {
    const ids = [];
    for (const name of ['first', 'second']) {
      ids.push(await withStore(join(root, name), seedFile, systemIdentifier));
    }
    expect(new Set(ids).size).toBe(2);
    // Reopened, it keeps it.
    expect(await withStore(join(root, 'first'), seedFile, systemIdentifier)).toBe(ids[0]);
  });

  it('is planted again when a first run was cut short before the cluster was complete', async () => {
    const directory = join(root, 'interrupted');
    mkdirSync(join(directory, 'base', '5'), { recursive: true });
    writeFileSync(join(directory, 'base', '5', '1259'), 'half a relation file');
    writeFileSync(join(directory, 'postgresql.conf'), 'shared_buffers = nonsense\n');
    // The lock of the process that was killed while planting.
    writeFileSync(join(directory, LOCK_FILE), '999999999');
    await withStore(directory, seedFile, async (store) => {
      await store.insertRecords(sealed('after-interruption', 3));
      const [row] = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_logs');
      expect(row?.n).toBe(3);
    });
  });

  it('stores a record in the partition of its month, made and protected when the first one arrives', async () => {
    await withStore(join(root, 'months'), seedFile, async (store) => {
      await store.insertRecords(sealed('months', 2));
      const homes = await store.query<{ home: string }>(
        'SELECT DISTINCT tableoid::regclass::text AS home FROM audit_logs',
      );
      expect(homes).toEqual([{ home: 'audit_logs_p2026_11' }]);
      expect(await findMissingProtections((text) => store.query(text))).toEqual([]);
      await expect(store.query('DELETE FROM audit_logs_p2026_11')).rejects.toThrow(/append-only/);
    });
  });

  it('is readable by its owner only', async () => {
    const directory = join(root, 'owner-only');
    await withStore(directory, seedFile, async () => {});
    expect(statSync(directory).mode & 0o777).toBe(0o700);
  });

  it('is never planted from a seed made from other migrations, nor from a damaged one', async () => {
    const seed = await readArchive<SeedManifest>(readFileSync(seedFile));
    const migrations = seed.manifest.migrations.map((m, i) =>
      i === 0 ? { ...m, hash: 'f'.repeat(64) } : m,
    );
    const otherMigrations = join(root, 'other-migrations.bin');
    writeFileSync(
      otherMigrations,
      await packArchive({ ...seed, manifest: { ...seed.manifest, migrations } }),
    );
    const damaged = join(root, 'damaged.bin');
    writeFileSync(damaged, readFileSync(seedFile).subarray(0, 1000));

    await expect(loadSeed(otherMigrations)).rejects.toThrow(/other migrations/);
    await expect(loadSeed(damaged)).rejects.toThrow();
    // The seed a build ships is only a shortcut: one that does not fit is passed over.
    expect(await findSeed([otherMigrations, damaged])).toBeNull();
    expect((await findSeed([damaged, seedFile]))?.manifest).toEqual(expectedSeedManifest());
  });
});

describe('an embedded store made by the current release', () => {
  /** As the release made it: PGlite on the main thread with its defaults (fsync off). */
  async function releasedStore(directory: string, migrationsFolder: string): Promise<PGlite> {
    const pg = await PGlite.create(directory);
    if (migrationsFolder === MIGRATION_CONFIG.migrationsFolder) {
      await runMigrations(
        async (statement) => (await pg.query<Record<string, unknown>>(statement)).rows,
        (config) => migrate(drizzle(pg), config),
        directory,
      );
    } else {
      await migrate(drizzle(pg), { migrationsFolder });
    }
    return pg;
  }

  it('opens with its rows, writes on, and has nothing to migrate', async () => {
    const dataDir = scratchDir();
    try {
      const pg = await releasedStore(join(dataDir, 'pglite'), MIGRATION_CONFIG.migrationsFolder);
      const rows = sealed('released', 5);
      await pg.query(UNNEST_INSERT_SQL, unnestParameters(rows));
      await pg.close();

      const store = await openAuditStore({ dataDir, migrate: false });
      try {
        expect(await store.migrate()).toEqual({ applied: 0, adopted: 0, reinstalled: 0 });
        await store.insertRecords(sealed('upgraded', 2));
        const counts = await store.query<{ chain_id: string; n: number }>(
          'SELECT chain_id, count(*)::int AS n FROM audit_logs GROUP BY 1 ORDER BY 1',
        );
        expect(counts).toEqual([
          { chain_id: 'released', n: 5 },
          { chain_id: 'upgraded', n: 2 },
        ]);
        const [settings] = await store.query<Record<string, string>>(
          `SELECT current_setting('fsync') AS fsync, current_setting('wal_sync_method') AS method`,
        );
        expect(settings).toEqual({ fsync: 'on', method: 'fsync' });
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('made by release 0.1.0 (drizzle bookkeeping, four migrations): adopts them and applies the rest', async () => {
    const dataDir = scratchDir();
    try {
      await (await releasedStore(join(dataDir, 'pglite'), RELEASED_MIGRATIONS)).close();
      const store = await openAuditStore({ dataDir, migrate: false });
      try {
        expect(await store.migrate()).toEqual({
          applied: MIGRATION_COUNT - RELEASED_COUNT,
          adopted: RELEASED_COUNT,
          reinstalled: 0,
        });
        expect(await findMissingProtections((text) => store.query(text))).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the embedded store runs one at a time', () => {
  it('refuses a second open of the same directory, in this process or another, until the first closes', async () => {
    const dataDir = scratchDir();
    try {
      const first = await openAuditStore({ dataDir });
      try {
        const error = await openAuditStore({ dataDir }).catch((e: unknown) => e);
        expect(isAitrailError(error, 'STORE_LOCKED')).toBe(true);
        expect((error as Error).message).toContain('in use by this process');
        // Earlier releases read the lock as a bare pid: it still is one.
        expect(readFileSync(join(dataDir, 'pglite', LOCK_FILE), 'utf8')).toBe(String(process.pid));
      } finally {
        await first.close();
      }
      await (await openAuditStore({ dataDir })).close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('respects the bare-pid lock of a live process, as an earlier release wrote it', async () => {
    const dataDir = scratchDir();
    try {
      mkdirSync(join(dataDir, 'pglite'), { recursive: true });
      writeFileSync(join(dataDir, 'pglite', LOCK_FILE), String(process.ppid));
      const error = await openAuditStore({ dataDir }).catch((e: unknown) => e);
      expect(isAitrailError(error, 'STORE_LOCKED')).toBe(true);
      expect((error as Error).message).toContain(`process ${process.ppid}`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('takes over a lock whose holder had this pid in an earlier life (a restarted container)', async () => {
    const dataDir = scratchDir();
    try {
      const directory = join(dataDir, 'pglite');
      mkdirSync(directory, { recursive: true });
      writeFileSync(join(directory, LOCK_FILE), String(process.pid));
      const earlierLife = { ...currentProcessIdentity(), startTime: '1' };
      writeFileSync(join(directory, LOCK_OWNER_FILE), JSON.stringify(earlierLife));
      await (await openAuditStore({ dataDir })).close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('lets a process that runs out of work exit, its records written on the way out', async () => {
    const dataDir = scratchDir();
    try {
      const result = await runTs('tests/fixtures/emit-events.ts', [], {
        env: {
          AITRAIL_DATA_DIR: dataDir,
          DATABASE_URL: '',
          EMIT_COUNT: '300',
          EMIT_MODE: 'exit',
          EMIT_BATCH_SIZE: '100000',
          EMIT_FLUSH_INTERVAL_MS: '600000',
        },
        timeoutMs: 60_000,
      });
      expect(result.signal).toBeNull();
      expect(result.code).toBe(0);
      const store = await openAuditStore({ dataDir });
      try {
        const [row] = await store.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM audit_logs WHERE action = 'fixture.event'",
        );
        expect(row?.n).toBe(300);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('closing the embedded store', () => {
  it('finishes the statements asked for before close() and refuses later ones', async () => {
    const dataDir = scratchDir();
    try {
      const store = await openAuditStore({ dataDir });
      const rows = sealed('closing', 6);
      const inserts = rows.map((row) => store.insertRecords([row]));
      const closed = store.close();
      await expect(Promise.all(inserts)).resolves.toEqual([1, 1, 1, 1, 1, 1]);
      await closed;
      const late = await store.query('SELECT 1').catch((e: unknown) => e);
      expect(isAitrailError(late, 'DATABASE_UNAVAILABLE')).toBe(true);

      const reopened = await openAuditStore({ dataDir });
      try {
        const [row] = await reopened.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM audit_logs',
        );
        expect(row?.n).toBe(6);
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a commit to the embedded store is durable', () => {
  it('runs with fsync on, synchronous commits and fsync as the WAL sync method', async () => {
    const dataDir = scratchDir();
    const store = await openAuditStore({ dataDir });
    try {
      const [settings] = await store.query<Record<string, string>>(
        `SELECT current_setting('fsync') AS fsync,
                current_setting('synchronous_commit') AS synchronous_commit,
                current_setting('wal_sync_method') AS wal_sync_method,
                current_setting('full_page_writes') AS full_page_writes`,
      );
      expect(settings).toEqual({
        fsync: 'on',
        synchronous_commit: 'on',
        wal_sync_method: 'fsync',
        full_page_writes: 'on',
      });
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('every insert acknowledged before a SIGKILL is there after the restart', async () => {
    const dataDir = scratchDir();
    try {
      const acked: string[] = [];
      const child = spawn(process.execPath, [compiledEntry('tests/fixtures/embedded-writer.ts')], {
        cwd: REPO_ROOT,
        env: { ...process.env, AITRAIL_DATA_DIR: dataDir, DATABASE_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('close', (_code, signal) => resolve(signal)),
      );
      let buffered = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) {
            if (line.startsWith('acked ')) acked.push(line.slice('acked '.length));
          }
          // Killed while it keeps writing: the next insert may be half done.
          if (acked.length >= 40) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.once('close', () => reject(new Error(`the writer ended on its own:\n${stderr}`)));
      });
      expect(await exited).toBe('SIGKILL');

      const store = await openAuditStore({ dataDir });
      try {
        const rows = await store.query<{ event_id: string; seq: number }>(
          `SELECT event_id, chain_seq::int AS seq FROM audit_logs WHERE chain_id = 'killed-writer'
           ORDER BY chain_seq`,
        );
        const stored = new Set(rows.map((r) => r.event_id));
        expect(acked.filter((id) => !stored.has(id))).toEqual([]);
        // No gap: whatever was written after the last acknowledgement continues the chain.
        expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
