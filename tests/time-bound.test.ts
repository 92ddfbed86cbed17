import { describe, expect, it } from 'vitest';
import { parseWholeNumber } from '../src/cli/numbers.js';
import { parsePeriod, parseTimeBound, parseTimeRange } from '../src/cli/time-bound.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);

describe('command-line times and numbers', () => {
  it('reads durations before now, dates, months, quarters and ISO times with microseconds', () => {
    expect(parseTimeBound('--since', '24h', NOW).start).toBe('2026-11-26T12:00:00.000000Z');
    expect(parseTimeBound('--since', '2026-11-27').end).toBe('2026-11-28T00:00:00.000000Z');
    expect(parseTimeBound('--since', '2026-12')).toEqual({
      start: '2026-12-01T00:00:00.000000Z',
      end: '2027-01-01T00:00:00.000000Z',
    });
    expect(parsePeriod('--period', '2026-Q4')).toEqual({
      start: '2026-10-01T00:00:00.000000Z',
      end: '2027-01-01T00:00:00.000000Z',
    });
    expect(parseTimeBound('--until', '2026-11-27T09:30:00.123456+01:00').start).toBe(
      '2026-11-27T08:30:00.123456Z',
    );
  });

  it('lets a date or month given to --until include the whole of it', () => {
    expect(parseTimeRange({ since: '2026-11', until: '2026-11' }, NOW)).toEqual({
      since: '2026-11-01T00:00:00.000000Z',
      before: '2026-12-01T00:00:00.000000Z',
    });
  });

  it.each([
    ['2026-02-30', /2026-02 has no day 30/],
    ['2025-02-29', /2025-02 has no day 29/],
    ['2026-13', /has no month 13/],
    ['2026-11-27T24:00', /not a time of day/],
    ['yesterday', /expects a duration/],
    ['0000-01-01', /outside the years/],
  ])('refuses the impossible time %s', (value, message) => {
    expect(() => parseTimeBound('--since', value, NOW)).toThrow(message);
  });

  it('refuses an --until before --since', () => {
    expect(() => parseTimeRange({ since: '2026-11-27', until: '2026-11-01T00:00:00Z' })).toThrow(
      /--until \(2026-11-01T00:00:00Z\) is before --since/,
    );
  });

  it.each(['0x10', '1e3', '+5', '07', '5.0', ' 5', ''])('refuses %j as a number', (value) => {
    expect(() => parseWholeNumber('--limit', value)).toThrow(/whole decimal number/);
  });

  it('accepts whole decimal numbers within bounds only', () => {
    expect(parseWholeNumber('--limit', '16', { min: 1 })).toBe(16);
    expect(() => parseWholeNumber('--limit', '0', { min: 1 })).toThrow(/from 1/);
  });
});
