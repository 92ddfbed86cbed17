import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILT_IN_DETECTOR_DEFINITIONS } from '../src/sanitize/detectors.js';
import { createRedactor } from '../src/sanitize/index.js';
import { FREE_DIGIT, LETTERS_THEN_DIGIT, TextFeatures } from '../src/sanitize/text-features.js';
import { compileTextRedaction } from '../src/sanitize/text-redaction.js';
import { benignCorpus, plantedCorpus } from './support/privacy-corpus.js';

/**
 * The prefilter may only skip work, never change a result: every `requires` and `gate` of a
 * built-in detector is a necessary condition of its pattern. These properties compare each
 * detector with and without them, and the prefilter's facts with plain searches.
 */

/** Pieces that make the detectors' patterns start, nearly match, and match. */
const PIECES = [
  ' ',
  '  ',
  '\n',
  '\t',
  '.',
  ',',
  ':',
  ';',
  '=',
  '-',
  '--',
  '_',
  '/',
  '"',
  "'",
  '@',
  '%',
  '%40',
  '%2F',
  '+',
  '(',
  ')',
  '[',
  ']',
  '#',
  '$',
  '€',
  '\u00a0',
  '\u200b',
  '📦',
  'é',
  '\ud800',
  'a',
  'Z',
  'x',
  'sk-',
  'sk_live_',
  'ghp_',
  'xoxb-',
  'AKIA',
  'AIza',
  'eyJ',
  'npm_',
  'SG.',
  'hf_',
  'https://',
  'hooks.slack.com/services/',
  'user:pass@',
  '-----BEGIN PRIVATE KEY-----',
  'password',
  'Password is ',
  'pin ',
  'token: ',
  'api key = ',
  'Bearer ',
  'Basic ',
  'ssn ',
  'one-time code is ',
  'shipping',
  'keys',
  '-p ',
  '--password ',
  '-u ',
  '0',
  '1',
  '12',
  '123',
  '2026',
  '4111',
  '1111',
  '555',
  '020',
  '+44',
  '+1',
  '(415) ',
  '0958',
  '123-45-6789',
  '4111 1111 1111 1111',
  'DE89 3704 0044 0532 0130 00',
  'de89370400440532013000',
  '192.168.1.10',
  '127.0.0.1',
  '2001:db8::1',
  'fe80::1ff:fe23:4567:890a',
  '09:27:09',
  '2026-11-27T09:27:09.123Z',
  'ORD-2026-000123',
  'alice@example.com',
  'v1.2.3.4',
  'Ab3dEf7hIj9kLm2nOp4qRs6tUv8wXy0z',
  'cGFzc3dvcmQ9aHVudGVyMg==',
  'd41d8cd98f00b204e9800998ecf8427e',
  'hunter2!',
  'Sommer2026!',
  '[REDACTED:email]',
];

const texts = fc
  .array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 24 })
  .map((parts) => parts.join(''));
const longTexts = fc
  .array(fc.constantFrom(...PIECES), { minLength: 60, maxLength: 160 })
  .map((parts) => parts.join(''));

const CORPUS = [...plantedCorpus().map((p) => p.text), ...benignCorpus().map((b) => b.text)];

describe('prefilter', () => {
  for (const detector of BUILT_IN_DETECTOR_DEFINITIONS) {
    it(`${detector.name} finds the same with and without its prefilter conditions`, () => {
      // Two conditions stand for hints stricter than the pattern, and stay: the command-line
      // `(?:^|\s)-`, and the 16-character token run the provider rules only run with.
      const unfiltered = {
        ...detector,
        requires: detector.name === 'provider_token' ? { tokenRun: 16 } : undefined,
        gate: detector.name === 'cli_secret' ? detector.gate : undefined,
      };
      const config = { modeOf: () => 'mask' as const, hashKey: 'key' };
      const filtered = compileTextRedaction({ ...config, detectors: [detector] });
      const plain = compileTextRedaction({ ...config, detectors: [unfiltered] });
      const features = new TextFeatures();
      const same = (text: string) =>
        filtered(text, features.scan(text)) === plain(text, features.scan(text));
      for (const text of CORPUS) expect(same(text), text).toBe(true);
      fc.assert(fc.property(texts, same), { numRuns: 400 });
      fc.assert(fc.property(longTexts, same), { numRuns: 40 });
    });
  }

  it('measures a long text to the same number facts a short one gets from its scan', () => {
    const features = new TextFeatures();
    fc.assert(
      fc.property(texts, (whole) => {
        // Short enough for the scan to find every fact itself.
        const text = whole.slice(0, 200);
        features.scan(text);
        const short = {
          numberDigits: features.numberDigits,
          digitRun: features.digitRun,
          flags: features.flags & (FREE_DIGIT | LETTERS_THEN_DIGIT),
        };
        // Padding with letters keeps every run of number characters as it was.
        features.scan(`${text}${' x'.repeat(200)}`);
        features.measure();
        expect({
          numberDigits: features.numberDigits,
          digitRun: features.digitRun,
          flags: features.flags & (FREE_DIGIT | LETTERS_THEN_DIGIT),
        }).toEqual(short);
      }),
      { numRuns: 300 },
    );
  });

  it('answers token runs, IPv6 leads and dashes opening a word like the searches they replace', () => {
    const features = new TextFeatures();
    const ipv6Lead = /(?<![\w:.])[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:/;
    const dashOpensWord = /(?:^|\s)-/;
    fc.assert(
      fc.property(fc.oneof(texts, longTexts), fc.integer({ min: 1, max: 40 }), (text, length) => {
        features.scan(text);
        expect(features.tokenRun(length)).toBe(
          new RegExp(`[A-Za-z0-9_+/=-]{${length}}`).test(text),
        );
        expect(features.ipv6Lead()).toBe(ipv6Lead.test(text));
        expect(features.dashOpensWord()).toBe(dashOpensWord.test(text));
      }),
      { numRuns: 500 },
    );
  });
});

describe('clean-string memory', () => {
  it('gives the same result for a string seen before, clean or not', () => {
    const redactor = createRedactor();
    for (const text of ['shipped', 'mail alice@example.com', 'shipped', 'mail alice@example.com']) {
      expect(redactor.redactText(text)).toBe(createRedactor().redactText(text));
    }
  });

  it('is not used when a detector brings its own validate: it is asked every time', () => {
    let calls = 0;
    const redactor = createRedactor({
      detectors: [
        {
          name: 'ticket',
          pattern: /TICKET-[A-Z]{4}/g,
          validate: () => {
            calls++;
            return calls > 1;
          },
        },
      ],
    });
    // No digit: a string the redactor would otherwise remember once found clean.
    expect(redactor.redactText('see TICKET-ABCD')).toBe('see TICKET-ABCD');
    expect(redactor.redactText('see TICKET-ABCD')).toBe('see [REDACTED:ticket]');
  });
});
