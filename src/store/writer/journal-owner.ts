import { readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  currentProcessIdentity,
  ownerState,
  type ProcessIdentity,
  parseProcessIdentity,
} from '../process-alive.js';

export const OWNER_FILE = 'owner.json';

/**
 * Who owns a chain's journal folder. Node has no `flock`, and a pid alone lies: the app of a
 * restarted container is PID 1 again, and pids are reused. So `owner.json` holds the owner's
 * pid, process start time, boot id and pid namespace, and the live owner touches the file every
 * `staleAfterMs / 3` (a heartbeat). A newcomer takes over a folder when:
 * - the owner shut down and handed the folder over (`released`);
 * - `owner.json` is missing or garbage (a live owner writes it, atomically, before its first
 *   segment; so segments without one were left by a writer that died or by a damaged disk);
 * - the owner ran under another boot, or in this pid namespace its pid is free or belongs to a
 *   process with another start time (pid reuse);
 * - the owner ran in another pid namespace (another container on this kernel, or this one's
 *   previous life) and its heartbeat is older than `staleAfterMs`.
 * A journal folder belongs to one host: two machines sharing it (NFS) are not supported.
 */
export class JournalOwnership {
  private readonly self: ProcessIdentity = currentProcessIdentity();
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly owned = new Set<string>();

  constructor(private readonly staleAfterMs: number) {}

  /** Writes this process into `dir/owner.json` (tmp file + rename: never half-written). */
  take(dir: string): void {
    this.writeOwner(dir, this.self);
    this.owned.add(dir);
    this.startHeartbeat();
  }

  /** Hands `dir` over: a writer that shut down with segments left lets the next one replay them. */
  handOver(dir: string): void {
    this.owned.delete(dir);
    try {
      this.writeOwner(dir, { ...this.self, released: true });
    } catch {
      // Then the heartbeat, or this process's end, tells the next writer.
    }
    if (this.owned.size === 0) this.stopHeartbeat();
  }

  private writeOwner(dir: string, owner: object): void {
    const path = join(dir, OWNER_FILE);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(owner));
    renameSync(tmp, path);
  }

  /** Can this process take over `dir`? See the class comment for the rules. */
  isAbandoned(dir: string): boolean {
    const path = join(dir, OWNER_FILE);
    let owner: ProcessIdentity | null;
    try {
      const stored = JSON.parse(readFileSync(path, 'utf8'));
      if (stored?.released === true) return true;
      owner = parseProcessIdentity(stored);
    } catch {
      owner = null;
    }
    if (owner === null) return true;
    const state = ownerState(owner, this.self);
    if (state !== 'unknown') return state === 'dead';
    try {
      return Date.now() - statSync(path).mtimeMs > this.staleAfterMs;
    } catch {
      return true;
    }
  }

  release(dir: string): void {
    this.owned.delete(dir);
    if (this.owned.size === 0) this.stopHeartbeat();
  }

  stop(): void {
    this.owned.clear();
    this.stopHeartbeat();
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(
      () => {
        const now = new Date();
        for (const dir of this.owned) {
          try {
            utimesSync(join(dir, OWNER_FILE), now, now);
          } catch {
            // The folder went away (replayed and removed); nothing to keep alive.
          }
        }
      },
      Math.max(50, Math.floor(this.staleAfterMs / 3)),
    );
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}
