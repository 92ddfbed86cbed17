/**
 * The embedded store's pre-migrated seed for the test run. `npm run build` writes it to
 * dist/; a clone that was never built, or built before the migrations changed, has none that
 * fits, and every embedded store would then be made the slow way (initdb and each migration,
 * seconds of CPU apiece). The global setup makes it once, under a lock, so parallel projects do
 * not race. Stores still verify the seed against the migrations themselves.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { findSeed, seedCandidates } from '../../src/store/pglite-seed.js';
import { buildPgliteSeed } from '../../src/store/pglite-seed-build.js';

const LOCK_WAIT_MS = 180_000;

export async function ensurePgliteSeed(): Promise<'found' | 'built' | 'waited'> {
  if ((await findSeed()) !== null) return 'found';
  // The dist/ candidate: where a build puts it, and where the sources look for it.
  const target = seedCandidates()[1] as string;
  await mkdir(dirname(target), { recursive: true });
  const lock = `${target}.lock`;
  try {
    await mkdir(lock);
  } catch {
    await waitForUnlock(lock);
    return 'waited';
  }
  try {
    const partial = `${target}.${process.pid}.partial`;
    await writeFile(partial, await buildPgliteSeed());
    await rename(partial, target);
    return 'built';
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function waitForUnlock(lock: string): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  while (Date.now() < deadline) {
    try {
      await stat(lock);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `${lock} is still held after ${LOCK_WAIT_MS / 1000} s: remove it if no test run is going`,
  );
}
