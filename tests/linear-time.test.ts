import { describe, expect, it } from 'vitest';
import { BUILT_IN_DETECTORS, createRedactor } from '../src/sanitize/index.js';

/**
 * A complexity guard, not a speed figure (those live in `npm run bench`): catastrophic
 * backtracking on 100 KB takes minutes or hours, a linear scan well under a second, so a
 * ceiling of a few seconds separates the two on any machine.
 */
const CEILING_MS = 5_000;
const SIZE = 100 * 1024;

function fill(unit: string, tail = '!'): string {
  return unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE - tail.length) + tail;
}

/** Inputs shaped to make each built-in's pattern try, fail and retry at every position. */
const ADVERSARIAL: readonly string[] = [
  fill('a'),
  fill('1'),
  fill('1 '),
  fill('1-'),
  fill('1.'),
  fill('a@'),
  fill('a.'),
  fill('a%40'),
  fill('%4'),
  fill('::'),
  fill('1:'),
  fill('+1 '),
  fill('(1'),
  fill('password='),
  fill('password is '),
  fill('token: a'),
  fill('--password '),
  fill('-p '),
  fill('-u a'),
  fill('Bearer '),
  fill('Basic QUJD'),
  fill('eyJ'),
  fill('eyJa.'),
  fill('sk-'),
  fill('sk-ant-'),
  fill('sk_live_'),
  fill('xoxb-'),
  fill('ghp_'),
  fill('AKIA'),
  fill('AIza'),
  fill('npm_'),
  fill('SG.a'),
  fill('https://'),
  fill('a://a@'),
  fill('hooks.slack.com/services/'),
  fill('-----BEGIN PRIVATE KEY-----\n'),
  fill('DE89'),
  fill('de89 '),
  fill('4111 '),
  fill('SSN '),
  fill('aB3'),
  fill('QUJDRE'),
  fill('a/B3'),
  fill('\u200b'),
];

describe('built-in detectors run in linear time', () => {
  for (const name of BUILT_IN_DETECTORS) {
    it(`${name} scans each 100 KB adversarial input within the ceiling`, () => {
      const only = createRedactor({
        disable: BUILT_IN_DETECTORS.filter((other) => other !== name),
        limits: { maxStringLength: SIZE * 2, maxTotalBytes: SIZE * 4 },
      });
      for (const input of ADVERSARIAL) {
        const started = performance.now();
        only.redactText(input);
        const elapsed = performance.now() - started;
        expect(elapsed, `${name} on ${JSON.stringify(input.slice(0, 12))}…`).toBeLessThan(
          CEILING_MS,
        );
      }
    });
  }

  it('the full default redactor scans each adversarial input within the ceiling', () => {
    const redactor = createRedactor({ limits: { maxStringLength: SIZE * 2 } });
    for (const input of ADVERSARIAL) {
      const started = performance.now();
      redactor.redactText(input);
      expect(performance.now() - started).toBeLessThan(CEILING_MS);
    }
  });
});

describe('user-supplied detectors', () => {
  it('run on RE2: a nested quantifier that backtracks for minutes returns at once', () => {
    const redactor = createRedactor({
      detectors: [{ name: 'evil', pattern: /(a+)+$/g }],
      limits: { maxStringLength: SIZE * 2 },
    });
    const input = `${'a'.repeat(SIZE)}!`;
    const started = performance.now();
    expect(redactor.redactText(input)).toBe(input);
    expect(performance.now() - started).toBeLessThan(CEILING_MS);
  });

  it('still match and keep their `keep` group', () => {
    const redactor = createRedactor({
      detectors: [{ name: 'employee_id', pattern: /(?<keep>emp=)E\d{6}/gi }],
    });
    expect(redactor.redactText('ids: emp=E123456, EMP=e654321 and x')).toBe(
      'ids: emp=[REDACTED:employee_id], EMP=[REDACTED:employee_id] and x',
    );
  });

  it('are refused with a TypeError naming the option when they need backtracking', () => {
    expect(() => createRedactor({ detectors: [{ name: 'backref', pattern: /(\w)\1/g }] })).toThrow(
      /policy\.detectors\[0\]\.pattern cannot run in linear time/,
    );
    expect(() => createRedactor({ detectors: [{ name: 'ahead', pattern: /a(?=b)/g }] })).toThrow(
      TypeError,
    );
  });
});
