import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRedactor } from '../src/sanitize/index.js';
import { readsAcrossItems, redactListInContext } from '../src/sanitize/list-context.js';

const redactor = createRedactor();
const TOKEN = 'Xj6Bo8yVTq3OVwHC';
const PASSWORD = 'Kk9gSH3WRt8i';

/** A list attribute as the exporter sends it, e.g. the resource's `process.command_args`. */
function asAttribute(items: string[]): string[] {
  return redactor.redactAttributes({ 'process.command_args': items })[
    'process.command_args'
  ] as string[];
}

/** A list inside a value, e.g. a shell tool's arguments in `traceToolCall` params. */
function asValue(items: string[]): string[] {
  return (redactor.redactValue({ argv: items }) as { argv: string[] }).argv;
}

describe('strings of one list read together', () => {
  for (const [where, redact] of [
    ['attribute arrays', asAttribute],
    ['arrays inside values', asValue],
  ] as const) {
    describe(where, () => {
      it('masks the value after a command-line flag and keeps the flag and the rest', () => {
        expect(
          redact(['node', 'deploy.js', '--api-token', TOKEN, '--password', PASSWORD, '--force']),
        ).toEqual([
          'node',
          'deploy.js',
          '--api-token',
          '[REDACTED:cli_secret]',
          '--password',
          '[REDACTED:cli_secret]',
          '--force',
        ]);
      });

      it('masks a secret that prose before it reveals, word by word', () => {
        const out = redact(['the', 'password', 'is', 'Ta4KauDIT#', 'ok']);
        expect(out).toEqual(['the', 'password', 'is', '[REDACTED:secret_prose]', 'ok']);
      });

      it('masks every item of a value split across items (a card number in four groups)', () => {
        const out = redact(['card', '4111', '1111', '1111', '1111', 'exp', '12/29']);
        expect(out.slice(1, 5).every((item) => item.startsWith('[REDACTED:'))).toBe(true);
        expect(out.slice(5)).toEqual(['exp', '12/29']);
      });

      it('leaves ordinary argument lists as they are', () => {
        const argv = [
          '/usr/bin/node',
          '--enable-source-maps',
          'server.js',
          '--port',
          '8080',
          '--host',
          '127.0.0.1',
          '--region',
          'eu-west-1',
          'ORD-2026-000481',
        ];
        expect(redact(argv)).toEqual(argv);
      });

      it('reads a flag and its value together even when many items lie before them', () => {
        const filler = Array.from({ length: 40 }, (_, i) => `--opt${i}`);
        const out = redact([...filler, '--api-token', TOKEN]);
        expect(out.slice(0, 41)).toEqual([...filler, '--api-token']);
        expect(out[41]).toBe('[REDACTED:cli_secret]');
      });
    });
  }

  it('gives back only what the redactor wrote for the joined items, never a raw word it replaced', () => {
    const word = fc.constantFrom(
      '--password',
      '--api-token',
      '-u',
      'Bearer',
      'password',
      'is',
      'card',
      '4111',
      '1111',
      'ops:Fg6y9wPqSd',
      TOKEN,
      'deploy',
      'eu-west-1',
      '8080',
    );
    fc.assert(
      fc.property(fc.array(word, { minLength: 2, maxLength: 24 }), (items) => {
        const replaced = redactListInContext(items, (text) => redactor.redactText(text));
        const out = items.map((item, index) => replaced.get(index) ?? item);
        // Each item either stayed (and then the redactor kept it where it stood) or holds only
        // words the redactor wrote.
        const written = new Set(redactor.redactText(items.join(' ')).split(' '));
        for (const [index, text] of replaced) {
          for (const part of text.split(' ').filter(Boolean)) expect(written).toContain(part);
          expect(text).not.toBe(items[index]);
        }
        expect(out).toHaveLength(items.length);
      }),
      { numRuns: 200 },
    );
  });

  it('reads a list cut short by the byte budget in context too', () => {
    const small = createRedactor({ limits: { maxTotalBytes: 120 } });
    const filler = Array.from({ length: 30 }, (_, i) => `item-${i}`);
    const out = small.redactValue(['deploy', '--password', PASSWORD, ...filler]) as string[];
    expect(out.slice(0, 3)).toEqual(['deploy', '--password', '[REDACTED:cli_secret]']);
    expect(out.at(-1)).toMatch(/^\[truncated \d+ more items \(maxTotalBytes\)\]$/);
  });

  it('reads every list joined under a policy with detectors of its own (their patterns may span items)', () => {
    const custom = createRedactor({ detectors: [{ name: 'person', pattern: /customer alice/g }] });
    expect(custom.redactValue(['customer', 'alice', 'ok'])).toEqual([
      '[REDACTED:person]',
      '[REDACTED:person]',
      'ok',
    ]);
    expect(redactor.redactValue(['customer', 'alice', 'ok'])).toEqual(['customer', 'alice', 'ok']);
  });

  it('stays linear on 100 KB lists built to make every window change (a complexity guard, not a speed figure)', () => {
    const wordy = `${'a '.repeat(120)}--password`;
    const shapes = [
      Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? wordy : `Xk${i}pQ9mZ2rT7vB4n`)),
      Array.from({ length: 6000 }, (_, i) => (i % 2 === 0 ? '--api-token' : `T${i}`)),
      Array.from({ length: 12000 }, () => '4111'),
    ];
    for (const items of shapes) {
      const started = performance.now();
      const out = asAttribute(items);
      redactor.redactValue(items);
      expect(out).toHaveLength(items.length);
      expect(performance.now() - started).toBeLessThan(5_000);
    }
  });

  it('does not pair items longer than 256 characters with their neighbours', () => {
    const long = `--api-token ${'x'.repeat(300)}`;
    const replaced = redactListInContext(['--password', long], (text) => redactor.redactText(text));
    expect(replaced.size).toBe(0);
  });
});

/** The definition `readsAcrossItems` answers in one pass, as the regular expression it replaces. */
const ACROSS_ITEMS = new RegExp(
  [
    String.raw`(?:^|\s)-`,
    'pass|pw|pin|secret|token|key|auth|bearer|basic|otp|ssn|social|session|cookie|credential',
    'dsn|database|sid|jwt|security|account',
    String.raw`[:=](?:\s|$)`,
    String.raw`[\d)] [\d(+]`,
    String.raw`(?:^|\s)(?=[A-Za-z]*\d)[A-Za-z\d]{1,8} [A-Za-z\d]{1,8}(?!\S)`,
    String.raw`(?:^|\s)[A-Za-z\d]{1,8} (?=[A-Za-z]*\d)[A-Za-z\d]{1,8}(?!\S)`,
  ].join('|'),
  'i',
);

describe('the test for windows worth reading joined', () => {
  it('answers exactly as its regular-expression definition on any text', () => {
    const pieces = [
      ...'aAbdkKpPsStTzZ09()+-:=_./@#',
      ' ',
      ' ',
      '  ',
      '\t',
      '\n',
      '\u00a0',
      '\u2028',
      '\ufeff',
      '\u200b',
      '\u017f',
      '\u212a',
      'é',
      'PASS',
      'Pw',
      'token',
      'SeCuRiTy',
      'acCount',
      'credentia',
      'ORD-2026-000123',
      '4111',
      '12345678',
      '123456789',
      'abcdefgh',
      'abcdefghi',
    ];
    const text = fc
      .array(fc.constantFrom(...pieces), { maxLength: 24 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (joined) => {
        expect(readsAcrossItems(joined)).toBe(ACROSS_ITEMS.test(joined));
      }),
      { numRuns: 20_000 },
    );
  });

  it('answers exactly as its definition on lists of ids, words and numbers', () => {
    const lists = [
      ['ORD-2026-000123', 'ORD-2026-004711'],
      ['shipped', 'delayed'],
      ['dhl', 'ups', 'gls'],
      ['card', '4111', '1111'],
      ['a1', 'b'],
      ['ab', 'cd'],
      ['x', ''],
      ['', '-v'],
      ['key:', 'v'],
      ['(415)', '555'],
      ['1)', '(2'],
    ];
    for (const items of lists) {
      const joined = items.join(' ');
      expect(readsAcrossItems(joined), joined).toBe(ACROSS_ITEMS.test(joined));
    }
  });
});
