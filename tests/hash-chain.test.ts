import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/store/canonical-json.js';
import { chainHash, GENESIS_HASH, HashChain, hashedFieldsOf } from '../src/store/hash-chain.js';
import { makeRecord } from './support/records.js';

/** The definition, written the slow and obvious way: sorted keys, no whitespace. */
function referenceCanonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(referenceCanonical).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .filter((key) => record[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${referenceCanonical(record[key])}`)
    .join(',')}}`;
}

describe('canonical JSON', () => {
  it('sorts keys by UTF-16 code units at every depth, with no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('orders array-index keys as strings ("1" < "10" < "2"), not numerically', () => {
    expect(canonicalJson({ 2: 'b', 10: 'c', 1: 'a', x: 0 })).toBe(
      '{"1":"a","10":"c","2":"b","x":0}',
    );
  });

  it('keeps a "__proto__" key as data', () => {
    expect(canonicalJson(JSON.parse('{"__proto__":{"polluted":1},"a":1}'))).toBe(
      '{"__proto__":{"polluted":1},"a":1}',
    );
  });

  it('refuses values JSON cannot represent', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/not representable/);
  });

  it('equals the obvious definition for arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(referenceCanonical(value));
      }),
      { numRuns: 500 },
    );
  });
});

describe('hash chain', () => {
  it('links each row to the previous hash, from 64 zeros, over the canonical audited fields', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            actorId: fc.string(),
            outcome: fc.string(),
            metadata: fc.dictionary(fc.string(), fc.jsonValue()),
          }),
          {
            minLength: 1,
            maxLength: 8,
          },
        ),
        (variants) => {
          const chain = new HashChain('chain-under-test');
          let prev = GENESIS_HASH;
          variants.forEach((variant, i) => {
            const record = makeRecord(i, { ...variant, metadata: variant.metadata as never });
            const sealed = chain.seal(record, canonicalJson(record.metadata));
            expect(sealed.chainSeq).toBe(i + 1);
            expect(sealed.prevHash).toBe(prev);
            expect(sealed.hash).toBe(chainHash(prev, referenceCanonical(hashedFieldsOf(sealed))));
            prev = sealed.hash;
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});
