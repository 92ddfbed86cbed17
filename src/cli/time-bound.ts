import { UsageError } from './usage-error.js';

const UNITS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `24h`, `30m`, `7d` (relative to now) or an ISO 8601 timestamp. */
export function parseTimeBound(option: string, value: string, now: number = Date.now()): Date {
  const relative = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(value.trim());
  const date = relative
    ? new Date(now - Number(relative[1]) * (UNITS[relative[2] as string] as number))
    : /^\d{4}-\d{2}-\d{2}/.test(value)
      ? new Date(value)
      : null;
  if (date !== null && !Number.isNaN(date.getTime())) {
    const year = date.getUTCFullYear();
    if (year < 1 || year > 9999) {
      throw new UsageError(`${option} "${value}" is outside the years 1 to 9999`);
    }
    return date;
  }
  throw new UsageError(
    `${option} expects a duration like 24h, 30m, 7d or an ISO 8601 timestamp, got "${value}"`,
  );
}
