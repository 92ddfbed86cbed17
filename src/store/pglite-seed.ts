import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AitrailError } from '../errors.js';
import { giveNewSystemIdentifier } from './cluster-identity.js';
import { MIGRATIONS_FOLDER, migrationTags } from './migrations.js';
import { type Archive, type ArchiveEntry, readArchive } from './seed-archive.js';

/**
 * The seed: an embedded store made at build time (initdb, then aitrail's migrations), packed
 * into one file. A first run plants it instead of running initdb and the migrations, which is
 * most of what a first run used to cost. It is used only when it was made from exactly these
 * migrations by this PGlite version; otherwise a first run makes the store the slow way.
 */
export const SEED_FILE = 'pglite-seed.bin';

/** Written last when planting: Postgres treats a directory without it as no cluster at all. */
export const CLUSTER_MARKER = 'PG_VERSION';

export interface SeedManifest {
  format: 1;
  /** The PGlite version whose initdb made the cluster. */
  pglite: string;
  /** Each migration applied to it: tag and SHA-256 of its SQL (drizzle's own hash). */
  migrations: Array<{ tag: string; hash: string }>;
}

export type Seed = Archive<SeedManifest>;

/** The manifest a seed must carry to be planted by this build. */
export function expectedSeedManifest(): SeedManifest {
  return {
    format: 1,
    pglite: pgliteVersion(),
    migrations: migrationTags().map((tag) => ({
      tag,
      hash: createHash('sha256')
        .update(readFileSync(join(MIGRATIONS_FOLDER, `${tag}.sql`), 'utf8'))
        .digest('hex'),
    })),
  };
}

/**
 * The build writes the seed to `dist/`, beside both builds (`dist/esm`, `dist/cjs`); run from
 * the sources (tsx, tests), the store uses the seed of the last build when it still fits.
 */
export function seedCandidates(): string[] {
  return [
    fileURLToPath(new URL(`../../${SEED_FILE}`, import.meta.url)),
    fileURLToPath(new URL(`../../dist/${SEED_FILE}`, import.meta.url)),
  ];
}

/** The seed that fits this build, or null (none shipped, or made from other migrations). */
export async function findSeed(
  candidates: readonly string[] = seedCandidates(),
): Promise<Seed | null> {
  for (const path of candidates) {
    if (!existsSync(path)) continue;
    try {
      return await loadSeed(path);
    } catch {
      // A seed of another build: the next candidate, else the slow way.
    }
  }
  return null;
}

/** Reads a seed file; throws when it is damaged or does not fit this build. */
export async function loadSeed(path: string): Promise<Seed> {
  const seed = await readArchive<SeedManifest>(await readFile(path));
  const expected = JSON.stringify(expectedSeedManifest());
  if (JSON.stringify(seed.manifest) !== expected) {
    throw new Error(`${path} was made from other migrations or another PGlite version`);
  }
  return seed;
}

/**
 * Writes the seed's cluster into `directory` (empty but for the store's lock) with a system
 * identifier of its own. Every file and directory is synced before `PG_VERSION` is written, and
 * that last: a run killed halfway leaves a directory without it, which the next run plants again.
 * Asynchronous I/O throughout, so the event loop keeps turning.
 */
export async function plantSeed(seed: Seed, directory: string): Promise<void> {
  try {
    await writeCluster(seed, directory);
  } catch (cause) {
    throw new AitrailError(
      'DATABASE_UNAVAILABLE',
      `the embedded store at ${directory} could not be created: ${(cause as Error).message}`,
      { cause },
    );
  }
}

async function writeCluster(seed: Seed, directory: string): Promise<void> {
  const entries = seed.entries.map((entry) => ({ ...entry }));
  giveNewSystemIdentifier(entries);
  const marker = entries.find((e) => e.path === CLUSTER_MARKER && e.kind === 'file');
  if (!marker) throw new Error(`the seed has no ${CLUSTER_MARKER}`);
  const directories = entries.filter((e) => e.kind === 'directory');
  for (const entry of directories) {
    await mkdir(join(directory, entry.path), { recursive: true, mode: 0o700 });
  }
  const files = entries.filter((e) => e.kind === 'file' && e !== marker);
  await inParallel(files, 8, (entry) => writeDurably(join(directory, entry.path), entry));
  await inParallel(directories, 8, (entry) => syncDirectory(join(directory, entry.path)));
  await writeDurably(join(directory, CLUSTER_MARKER), marker);
  await syncDirectory(directory);
  await syncDirectory(dirname(directory));
}

async function writeDurably(path: string, entry: ArchiveEntry): Promise<void> {
  const handle = await open(path, 'w', 0o600);
  try {
    if (entry.data.length > 0) await handle.writeFile(entry.data);
    if (entry.size > entry.data.length) await handle.truncate(entry.size);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(path: string): Promise<void> {
  // Windows opens no directory as a file; Postgres does not sync directories there either.
  if (process.platform === 'win32') return;
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function inParallel<T>(
  items: readonly T[],
  width: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await run(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
}

function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8'));
  return String((manifest as { version?: unknown }).version);
}
