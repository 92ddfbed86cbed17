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

/** The lock file's name inside the store directory. */
export const LOCK_FILE = 'aitrail.lock';

/**
 * One open store per directory: two Postgres instances on the same files corrupt them, whether
 * they run in two processes or in two threads of one. The lock file names its holder (pid, start
 * time, boot and pid namespace, see process-alive.ts); a lock whose holder is gone is stale,
 * even when a restarted container's app has the holder's pid again.
 */
export class DirectoryLock {
  private released = false;

  private constructor(private readonly path: string) {}

  static acquire(directory: string): DirectoryLock {
    const path = join(directory, LOCK_FILE);
    const self = currentProcessIdentity();
    for (let attempt = 0; attempt < 2; attempt++) {
      if (createWithContent(path, JSON.stringify(self))) return new DirectoryLock(path);
      const holder = readHolder(path);
      if (holder !== null && isHeld(holder, self)) {
        const who =
          holder.pid === self.pid && ownerState(holder, self) === 'alive'
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
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone: nothing to release.
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

/** The holder a lock file names: an identity, or the bare pid earlier releases wrote. */
function readHolder(path: string): ProcessIdentity | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
  if (/^\d+$/.test(text)) return parseProcessIdentity({ pid: Number(text) });
  try {
    return parseProcessIdentity(JSON.parse(text));
  } catch {
    return null;
  }
}

function isHeld(holder: ProcessIdentity, self: ProcessIdentity): boolean {
  const state = ownerState(holder, self);
  if (state !== 'unknown') return state === 'alive';
  // Another pid namespace or host, or a bare pid: only the pid can be asked about.
  return holder.pid !== self.pid && isProcessAlive(holder.pid);
}
