import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/store/canonical-json.js';
import { splitPersonalData } from '../src/store/erasure/personal-fields.js';
import { HashChain } from '../src/store/hash-chain.js';
import { rowValues, vaultValues } from '../src/store/insert-sql.js';
import type { AiAuditMetadata } from '../src/store/metadata.js';
import { journalLine, parseJournalLine } from '../src/store/writer/journal-line.js';
import { makeRecord } from './support/records.js';

function sealedSplit(index: number, metadata: AiAuditMetadata) {
  const split = splitPersonalData(makeRecord(index, { metadata }));
  const sealed = new HashChain('chain-1').seal(
    split.chained,
    canonicalJson(split.chained.metadata),
  );
  sealed.personal = split.personal;
  return sealed;
}

describe('journal lines', () => {
  it('replay a split record as the row and vault row the writer would have inserted', () => {
    const sealed = sealedSplit(3, {
      toolName: 'lookup_order',
      toolParams: { z: [1, { b: 'x\n"y"', a: null }], a: 'é 📦', nested: { k: true } },
      content: 'tab\there',
    });
    const parsed = parseJournalLine(journalLine(sealed).trimEnd());
    if (parsed.kind !== 'record') throw new Error(`not a record: ${parsed.kind}`);
    expect(rowValues(parsed.record)).toEqual(rowValues(sealed));
    expect(vaultValues(parsed.record)).toEqual(vaultValues(sealed));
    expect(parsed.record.personal).toEqual(sealed.personal);
  });

  it('replay a record without personal metadata with a null in its place', () => {
    const sealed = sealedSplit(4, { toolName: 'lookup_order' });
    const parsed = parseJournalLine(journalLine(sealed).trimEnd());
    if (parsed.kind !== 'record') throw new Error(`not a record: ${parsed.kind}`);
    expect(parsed.record.personal?.personal).toBeNull();
    expect(vaultValues(parsed.record)).toEqual(vaultValues(sealed));
  });

  it("read a split's personal metadata back as the canonical JSON data it committed to", () => {
    const { personal } = splitPersonalData(
      makeRecord(5, {
        metadata: { toolParams: { b: 1, a: [undefined as unknown as null, 2] }, source: 'test' },
      }),
    );
    expect(personal.personal).toEqual({ toolParams: { a: [null, 2], b: 1 } });
    expect(JSON.stringify(personal)).toContain('"personal":{"toolParams":{"a":[null,2],"b":1}}');
    expect({ ...personal }.personal).toEqual(personal.personal);
  });
});
