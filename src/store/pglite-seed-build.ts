import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE, LOCK_OWNER_FILE } from './directory-lock.js';
import { expectedSeedManifest } from './pglite-seed.js';
import { PgliteStore } from './pglite-store.js';
import { packDirectory } from './seed-archive.js';

/** Dated partitions (`audit_logs_p2026_11`), by month; migration 0004 creates them around "now". */
const DATED_PARTITION_MONTHS = `
  SELECT DISTINCT to_date(substring(relname from '_p(\\d{4}_\\d{2})$'), 'YYYY_MM')::text AS month
  FROM pg_class WHERE relname ~ '^audit_(logs|personal_data)_p\\d{4}_\\d{2}$' ORDER BY 1`;

/**
 * Makes the seed (see pglite-seed.ts): a store made the slow way, initdb and then every
 * migration, trimmed to what a first run needs, and packed. The build runs this
 * (scripts/build.mjs), and so do the tests that compare a planted store with a migrated one.
 */
export async function buildPgliteSeed(): Promise<Buffer> {
  const root = await mkdtemp(join(tmpdir(), 'aitrail-seed-'));
  const directory = join(root, 'pglite');
  try {
    const store = await PgliteStore.open(directory, { seed: null });
    try {
      await store.migrate();
      // Months are the planting run's business (it creates them as a migration would then).
      for (const { month } of await store.query<{ month: string }>(DATED_PARTITION_MONTHS)) {
        await store.query('SELECT aitrail_drop_month($1::timestamptz)', [`${month}T00:00:00Z`]);
      }
      // aitrail uses the `postgres` database only; the templates would triple the files to plant.
      for (const template of ['template0', 'template1']) {
        await store.query(`ALTER DATABASE ${template} IS_TEMPLATE false`);
        await store.query(`DROP DATABASE ${template}`);
      }
      // Every row frozen and hinted now, so a first run does not rewrite catalog pages it reads.
      await store.query('VACUUM FREEZE');
      // A fresh WAL segment, the old one removed: the seed's WAL holds the last checkpoint only.
      await store.query('SET wal_recycle = off');
      await store.query('SELECT pg_switch_wal()');
      await store.query('CHECKPOINT');
    } finally {
      await store.close();
    }
    return await packDirectory(
      directory,
      expectedSeedManifest(),
      new Set([LOCK_FILE, LOCK_OWNER_FILE, 'postmaster.pid', 'postmaster.opts']),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
