import { setImmediate as nextTurn, setTimeout as sleepMs } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// `npm run bench` runs without --expose-gc; the flag can still be set before the first use.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Full collection between measurements, so one run's garbage is not billed to the next. */
export function collectGarbage(): void {
  gc();
  gc();
}

/** One turn of the event loop: timers, I/O and `setImmediate` work queued so far run. */
export function yieldToEventLoop(): Promise<void> {
  return nextTurn();
}

export function sleep(ms: number): Promise<void> {
  return sleepMs(ms);
}

/** User + system CPU time of this process, in microseconds. */
export function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** `promise`, or a rejection naming `what` once `ms` have passed (the timer never keeps the process up). */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
