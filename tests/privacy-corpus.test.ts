import { describe, expect, it } from 'vitest';
import { createRedactor } from '../src/sanitize/index.js';
import { benignCorpus, plantedCorpus } from './support/privacy-corpus.js';

// The redactor alone. The same corpus through every entry point into Postgres and an OTLP
// receiver, and the figures in docs/privacy.md: tests/privacy-corpus-sinks.test.ts.

const planted = plantedCorpus();
const benign = benignCorpus();
const redactor = createRedactor();

/** Every way a string reaches the redactor outside the helpers. */
function outputsOf(text: string): string[] {
  return [
    redactor.redactText(text),
    JSON.stringify(redactor.redactValue({ note: text, nested: { args: [text] } })),
    JSON.stringify(redactor.redactAttributes({ 'app.note': text, 'exception.message': text })),
  ];
}

describe('privacy corpus', () => {
  it('has at least 200 planted values across at least 40 kinds and 100 benign look-alikes', () => {
    expect(planted.length).toBeGreaterThanOrEqual(200);
    expect(new Set(planted.map((p) => p.kind)).size).toBeGreaterThanOrEqual(40);
    expect(benign.length).toBeGreaterThanOrEqual(100);
  });

  it('no planted value survives redactText, redactValue or redactAttributes', () => {
    const leaks = planted.filter((p) => outputsOf(p.text).some((out) => out.includes(p.secret)));
    expect(leaks.map((p) => `${p.kind}: ${p.text}`)).toEqual([]);
  });

  it('false positives stay at or under 2% of the benign set', () => {
    const altered = benign.filter((b) => redactor.redactText(b.text) !== b.text);
    expect(altered.length / benign.length).toBeLessThanOrEqual(0.02);
  });
});
