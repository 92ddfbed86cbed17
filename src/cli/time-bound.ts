import { UsageError } from './usage-error.js';

const UNITS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * A point or a calendar period on the command line. `start` is inclusive; `end` is the
 * exclusive end of a period (a day, month, quarter or year), or undefined for an instant.
 * Both are ISO 8601 UTC strings with microseconds, so `2026-11-27T09:00:00.123456Z` survives.
 */
export interface TimeBound {
  start: string;
  end?: string;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function iso(ms: number, micros = 0): string {
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(
    (((ms % 1000) + 1000) % 1000) * 1000 + micros,
  ).padStart(6, '0')}Z`;
}

function checkYear(option: string, value: string, year: number): void {
  if (year < 1 || year > 9999) {
    throw new UsageError(`${option} "${value}" is outside the years 1 to 9999`);
  }
}

/** `2026`, `2026-Q4`, `2026-11`, `2026-11-27`: the period's [start, end). */
export function parsePeriod(option: string, value: string): TimeBound | undefined {
  let match = /^(\d{4})$/.exec(value);
  if (match) {
    const year = Number(match[1]);
    checkYear(option, value, year);
    return { start: iso(Date.UTC(year, 0, 1)), end: iso(Date.UTC(year + 1, 0, 1)) };
  }
  match = /^(\d{4})-Q([1-4])$/i.exec(value);
  if (match) {
    const year = Number(match[1]);
    const quarter = Number(match[2]);
    checkYear(option, value, year);
    return {
      start: iso(Date.UTC(year, (quarter - 1) * 3, 1)),
      end: iso(Date.UTC(year, quarter * 3, 1)),
    };
  }
  match = /^(\d{4})-(\d{2})$/.exec(value);
  if (match) {
    const year = Number(match[1]);
    const month = Number(match[2]);
    checkYear(option, value, year);
    if (month < 1 || month > 12) throw new UsageError(`${option} "${value}" has no month ${month}`);
    return { start: iso(Date.UTC(year, month - 1, 1)), end: iso(Date.UTC(year, month, 1)) };
  }
  match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (match) {
    const start = isoInstant(option, value);
    return { start, end: iso(Date.parse(start) + 86_400_000) };
  }
  return undefined;
}

/** An ISO 8601 date or date-time; impossible dates and times are usage errors. No zone means UTC. */
function isoInstant(option: string, value: string): string {
  const match = ISO.exec(value);
  if (!match) {
    throw new UsageError(
      `${option} expects a duration (24h, 7d), a date (2026-11-27), a month (2026-11) or an ISO 8601 time, got "${value.slice(0, 40)}"`,
    );
  }
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone = 'Z'] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  checkYear(option, value, year);
  if (month < 1 || month > 12) throw new UsageError(`${option} "${value}" has no month ${month}`);
  if (day < 1 || day > daysInMonth(year, month)) {
    throw new UsageError(`${option} "${value}" is not a date: ${y}-${mo} has no day ${day}`);
  }
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    throw new UsageError(`${option} "${value}" is not a time of day`);
  }
  const zoneMatch = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  let offsetMs = 0;
  if (zoneMatch) {
    if (Number(zoneMatch[2]) > 23 || Number(zoneMatch[3]) > 59)
      throw new UsageError(`${option} "${value}" has an impossible UTC offset`);
    offsetMs =
      (zoneMatch[1] === '-' ? -1 : 1) *
      (Number(zoneMatch[2]) * 3_600_000 + Number(zoneMatch[3]) * 60_000);
  }
  const digits = fraction.padEnd(6, '0');
  const ms =
    Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s), Number(digits.slice(0, 3))) -
    offsetMs;
  return iso(ms, Number(digits.slice(3, 6)));
}

/** `24h`, `30m`, `7d`, `2w` (before now), a date, a month, a quarter, a year or an ISO 8601 time. */
export function parseTimeBound(option: string, value: string, now: number = Date.now()): TimeBound {
  const text = value.trim();
  const relative = /^(\d+)([smhdw])$/.exec(text);
  if (relative) {
    return { start: iso(now - Number(relative[1]) * (UNITS[relative[2] as string] as number)) };
  }
  return parsePeriod(option, text) ?? { start: isoInstant(option, text) };
}

/** The query bounds of `--since`/`--until`: `until` is inclusive, `before` exclusive (periods). */
export interface TimeRange {
  since?: string;
  until?: string;
  before?: string;
}

/** `--since X --until Y`: a period as `--until` reaches its end; `--until` before `--since` is a usage error. */
export function parseTimeRange(
  values: { since?: string; until?: string },
  now: number = Date.now(),
): TimeRange {
  const range: TimeRange = {};
  if (values.since !== undefined) range.since = parseTimeBound('--since', values.since, now).start;
  if (values.until !== undefined) {
    const bound = parseTimeBound('--until', values.until, now);
    if (bound.end !== undefined) range.before = bound.end;
    else range.until = bound.start;
  }
  const upper = range.before ?? range.until;
  if (range.since !== undefined && upper !== undefined) {
    const empty = range.before !== undefined ? upper <= range.since : upper < range.since;
    if (empty) {
      throw new UsageError(
        `--until (${values.until}) is before --since (${values.since}): the range is empty`,
      );
    }
  }
  return range;
}
