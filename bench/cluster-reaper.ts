/**
 * Removes the bench's throwaway cluster once the bench process is gone, however it ended.
 * The bench cleans up after itself on success, failure and a handled signal, but tsx kills
 * its child with SIGKILL when the child does not acknowledge a signal within 30 ms, which a
 * benchmark busy in a measurement loop cannot do; no in-process hook survives that.
 *
 * usage: cluster-reaper.ts <bench pid> <cluster base dir>
 */
import { existsSync } from 'node:fs';
import { removeClusterTree } from '../tests/support/pg-cluster.js';

const POLL_MS = 500;
const [pidArg, baseDir] = process.argv.slice(2);
const benchPid = Number(pidArg);
if (!Number.isInteger(benchPid) || !baseDir) {
  throw new TypeError('usage: cluster-reaper.ts <bench pid> <cluster base dir>');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const timer = setInterval(() => {
  if (!existsSync(baseDir)) {
    // The bench removed its cluster itself.
    clearInterval(timer);
    return;
  }
  if (alive(benchPid)) return;
  clearInterval(timer);
  removeClusterTree(baseDir);
}, POLL_MS);
