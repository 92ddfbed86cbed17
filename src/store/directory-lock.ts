import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AitrailError } from '../errors.js';
import {
  currentProcessIdentity,
  isProcessAlive,
  ownerState,
  type ProcessIdentity,
  parseProcessIdentity,
} from './process-alive.js';

/** The lock file inside the store directory: the holder's pid, as earlier releases read it. */
export const LOCK_FILE = 'aitrail.lock';
/** Beside it, who the holder is beyond its pid (start time, boot, pid namespace). */
export const LOCK_OWNER_FILE = 'aitrail.lock.owner';

/**
 * One open store per directory: two Postgres instances on the same files corrupt them, whether
 * they run in two processes or in two threads of one. A lock whose holder is gone is stale, even
 * when a restarted container's app has the holder's pid again (the owner file tells them apart;
 * without it, as written by an earlier release, only the pid is compared).
 */
export class DirectoryLock {
  private released = false;

  private constructor(private readonly directory: string) {}

  static acquire(directory: string): DirectoryLock {
    const path = join(directory, LOCK_FILE);
    const self = currentProcessIdentity();
    for (let attempt = 0; attempt < 2; attempt++) {
      if (createWithContent(path, String(self.pid))) {
        // Synchronous from the link on: no other open in this process runs in between.
        writeFileSync(join(directory, LOCK_OWNER_FILE), JSON.stringify(self), { mode: 0o600 });
        return new DirectoryLock(directory);
      }
      const holder = readHolder(directory);
      if (holder !== null && isHeld(holder, self)) {
        const who =
          holder.pid === self.pid
            ? 'this process (close the store opened first)'
            : `process ${holder.pid} (one process at a time)`;
        throw new AitrailError(
          'STORE_LOCKED',
          `the embedded store at ${directory} is in use by ${who}; ` +
            'stop that process, or share Postgres between them with DATABASE_URL',
        );
      }
      try {
        unlinkSync(path);
      } catch {
        // Another process removed the stale lock first: try again.
      }
    }
    throw new AitrailError('STORE_LOCKED', `could not lock the embedded store at ${directory}`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const name of [LOCK_OWNER_FILE, LOCK_FILE]) {
      try {
        unlinkSync(join(this.directory, name));
      } catch {
        // Already gone: nothing to release.
      }
    }
  }
}

/**
 * Creates `path` holding `content`, or returns false when it exists. Written aside and linked
 * into place, so no other process ever reads the lock half-written (and takes it for stale).
 */
function createWithContent(path: string, content: string): boolean {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(aside, content, { mode: 0o600 });
  try {
    linkSync(aside, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  } finally {
    unlinkSync(aside);
  }
}

/** The holder: the lock's pid, with the owner file's identity when that names the same pid. */
function readHolder(directory: string): ProcessIdentity | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(directory, LOCK_FILE), 'utf8').trim());
  } catch {
    return null;
  }
  let owner: ProcessIdentity | null = null;
  try {
    owner = parseProcessIdentity(
      JSON.parse(readFileSync(join(directory, LOCK_OWNER_FILE), 'utf8')),
    );
  } catch {
    // No owner file (an earlier release's lock) or a damaged one: the pid alone.
  }
  return owner?.pid === pid ? owner : parseProcessIdentity({ pid });
}

function isHeld(holder: ProcessIdentity, self: ProcessIdentity): boolean {
  const state = ownerState(holder, self);
  if (state !== 'unknown') return state === 'alive';
  // Another pid namespace or host, or a bare pid: only the pid can be asked about.
  return holder.pid !== self.pid && isProcessAlive(holder.pid);
}
