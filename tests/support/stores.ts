import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditStore } from '../../src/store/audit-store.js';
import { openAuditStore } from '../../src/store/open-store.js';
import { testDatabaseUrl } from './postgres.js';

// Test files reach Postgres through the harness (inject), never through the env fallback:
// an inherited DATABASE_URL would otherwise turn every "embedded" store into Postgres.
delete process.env.DATABASE_URL;

export const BACKENDS = ['pglite', 'postgres'] as const;
export type Backend = (typeof BACKENDS)[number];

export interface TestStore {
  store: AuditStore;
  /** Scratch data directory (embedded store and journal). */
  dataDir: string;
  /** Postgres URL for the postgres backend. */
  databaseUrl: string | undefined;
  close(): Promise<void>;
}

export function scratchDir(prefix = 'aitrail-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A migrated, empty store on the given backend, with its own data directory. */
export async function openTestStore(backend: Backend): Promise<TestStore> {
  const dataDir = scratchDir();
  const databaseUrl = backend === 'postgres' ? await testDatabaseUrl() : undefined;
  const store = await openAuditStore({ databaseUrl, dataDir });
  return {
    store,
    dataDir,
    databaseUrl,
    async close() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
