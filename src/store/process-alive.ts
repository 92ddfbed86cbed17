import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** Is a process with this pid running on this host? (`EPERM`: it exists, owned by someone else.) */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Who a process is, in a way that survives pid reuse: the pid alone is not enough (every
 * container's app is PID 1, and pids are recycled), so the kernel's boot id, the pid namespace
 * and the process's start time (clock ticks since boot, `/proc/PID/stat` field 22) go with it.
 * The Linux fields are `null` elsewhere; then only the pid can be compared.
 */
export interface ProcessIdentity {
  pid: number;
  /** `/proc/PID/stat` field 22. */
  startTime: string | null;
  /** `/proc/sys/kernel/random/boot_id`: changes at every boot. */
  bootId: string | null;
  /** `/proc/self/ns/pid`, e.g. `pid:[4026531836]`: a pid means something only inside it. */
  pidNamespace: string | null;
  host: string;
}

export function currentProcessIdentity(): ProcessIdentity {
  return {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    bootId: readOrNull(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()),
    pidNamespace: readOrNull(() => readlinkSync('/proc/self/ns/pid')),
    host: hostname(),
  };
}

/** The start time of a pid in this pid namespace, or null when there is no such process. */
export function processStartTime(pid: number): string | null {
  return readOrNull(() => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command) is parenthesised and may hold spaces: count from its closing paren.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  });
}

/** A stored identity, if `value` has the shape of one; anything else (garbage) is null. */
export function parseProcessIdentity(value: unknown): ProcessIdentity | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v.pid !== 'number' || !Number.isInteger(v.pid) || v.pid <= 0) return null;
  const textOrNull = (x: unknown) => (typeof x === 'string' ? x : null);
  return {
    pid: v.pid,
    startTime: textOrNull(v.startTime),
    bootId: textOrNull(v.bootId),
    pidNamespace: textOrNull(v.pidNamespace),
    host: textOrNull(v.host) ?? '',
  };
}

/**
 * What this process can tell about the process `owner` describes:
 * - `dead`: it ran under another boot of this kernel, or its pid is free, or the pid now belongs
 *   to a process that started at another time (pid reuse: the PID 1 of a restarted container);
 * - `alive`: the same pid with the same start time is running in this pid namespace;
 * - `unknown`: it runs (or ran) in another pid namespace of this kernel (another container), where
 *   this process cannot see it; the caller decides by another sign (a heartbeat).
 */
export function ownerState(
  owner: ProcessIdentity,
  self: ProcessIdentity = currentProcessIdentity(),
): 'alive' | 'dead' | 'unknown' {
  if (owner.bootId !== null && self.bootId !== null && owner.bootId !== self.bootId) return 'dead';
  if (owner.pidNamespace !== null && self.pidNamespace !== null) {
    if (owner.pidNamespace !== self.pidNamespace) return 'unknown';
  } else if (owner.host !== self.host) {
    return 'unknown';
  }
  if (owner.startTime === null || self.startTime === null) {
    return isProcessAlive(owner.pid) ? 'alive' : 'dead';
  }
  return processStartTime(owner.pid) === owner.startTime ? 'alive' : 'dead';
}

function readOrNull(read: () => string | null): string | null {
  try {
    return read();
  } catch {
    return null;
  }
}
