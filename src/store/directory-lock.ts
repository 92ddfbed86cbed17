import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AitrailError } from '../errors.js';
import { isProcessAlive } from './process-alive.js';

/** The lock file's name inside the store directory. */
export const LOCK_FILE = 'aitrail.lock';

/**
 * One process at a time per embedded store: PGlite corrupts a directory that two processes
 * open together. The lock file holds the owner's pid; a lock whose process is gone is stale.
 */
export class DirectoryLock {
  private released = false;

  private constructor(private readonly path: string) {}

  static acquire(directory: string): DirectoryLock {
    const path = join(directory, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return new DirectoryLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = Number(readFileSync(path, 'utf8').trim());
        if (
          Number.isInteger(owner) &&
          owner > 0 &&
          owner !== process.pid &&
          isProcessAlive(owner)
        ) {
          throw new AitrailError(
            'STORE_LOCKED',
            `the embedded store at ${directory} is in use by process ${owner} (one process at a time); ` +
              'stop that process, or share Postgres between them with DATABASE_URL',
          );
        }
        unlinkSync(path);
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
