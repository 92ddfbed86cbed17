import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STORE_HEADER = 'store.json';

/**
 * Journals are kept per store: `<journalDir>/<key>/`, the key a digest of the store's location
 * (URL without password, or PGlite folder), with `store.json` naming it. A process pointed at
 * another database never even looks into this folder; one pointed at the same location checks
 * each chain's bound database identity before replaying (see `Journal`).
 */
export function storeJournalRoot(journalDir: string, location: string): string {
  const key = createHash('sha256').update(location).digest('hex').slice(0, 16);
  const root = join(journalDir, key);
  try {
    if (!existsSync(join(root, STORE_HEADER))) {
      mkdirSync(root, { recursive: true });
      writeFileSync(join(root, STORE_HEADER), JSON.stringify({ location }));
    }
  } catch {
    // Unwritable for now (disk full): the journal retries when it first appends.
  }
  return root;
}

/** A journal under `journalDir` that belongs to another store, or to none (the old layout). */
export interface ForeignJournal {
  dir: string;
  /** The store it was written for; null for a folder of the layout before journals were bound. */
  location: string | null;
}

/** Journals next to `ownRoot` that hold segments and were written for other stores. */
export function foreignJournals(journalDir: string, ownRoot: string): ForeignJournal[] {
  const found: ForeignJournal[] = [];
  let entries: string[];
  try {
    entries = readdirSync(journalDir);
  } catch {
    return found;
  }
  for (const name of entries) {
    const dir = join(journalDir, name);
    if (dir === ownRoot) continue;
    if (hasSegments(dir)) {
      // Segments straight under a chain folder of `journalDir`: the unbound layout.
      found.push({ dir, location: null });
      continue;
    }
    let location: string | null;
    try {
      location = (JSON.parse(readFileSync(join(dir, STORE_HEADER), 'utf8')) as { location: string })
        .location;
    } catch {
      continue;
    }
    const chains = safeList(dir).filter((chain) => hasSegments(join(dir, chain)));
    if (chains.length > 0) found.push({ dir, location: String(location) });
  }
  return found;
}

function hasSegments(dir: string): boolean {
  return safeList(dir).some((f) => f.endsWith('.jnl') && f !== 'dead-letter.jnl');
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
