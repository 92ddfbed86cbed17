import { canonicalJson } from '../canonical-json.js';
import { canonicalHashedFields, chainHash, computeRowHash } from '../hash-chain.js';
import {
  canonicalColumns,
  HASHED_COLUMNS,
  type HashedFields,
  type HashVersion,
  selectExpression,
} from '../hashed-columns.js';
import { shorten, storableTimestamp } from '../writer/poison.js';

/** A row as verify reads it: the hashed fields (metadata as jsonb text), its links, its arrival. */
export type RowForVerify = Omit<HashedFields, 'chain_seq'> & {
  /** bigint: postgres.js returns it as text. */
  chain_seq: string | number;
  prev_hash: string;
  hash: string;
  /** Set by the database: only used for the age of unanchored rows. */
  recorded_at: string;
};

/** Verify's SELECT list, derived from the hashed-columns declaration. */
export const ROW_COLUMNS = [
  ...HASHED_COLUMNS.map(selectExpression),
  'prev_hash',
  'hash',
  `to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_at`,
].join(', ');

function fieldsOf(row: RowForVerify, metadataJson: string, chainSeq: number): HashedFields {
  return { ...row, metadata: metadataJson, chain_seq: chainSeq } as HashedFields;
}

export type RowCheck =
  | { ok: true; degraded: boolean; canonical: string }
  | { ok: false; sealedAtSeq: number | null; detail?: string };

/**
 * Does the row's content match its hash? A degraded row is checked against its preserved
 * original: the hash over the original, and every column compared with what degrading the
 * original gives (a changed `actor_id` behind the poison wrapper fails like any other change).
 */
export function checkRowHash(
  row: RowForVerify,
  seq: number,
  reorderWindow: number,
  version: HashVersion,
): RowCheck {
  let metadata: unknown;
  try {
    metadata = JSON.parse(row.metadata);
  } catch {
    return { ok: false, sealedAtSeq: null };
  }
  const poison = (metadata as { aitrailPoison?: { original?: unknown } } | null)?.aitrailPoison;
  if (poison && typeof poison.original === 'string')
    return checkDegraded(row, seq, poison.original, version);
  let metadataJson: string;
  try {
    metadataJson = canonicalJson(metadata);
  } catch {
    // A number JSON cannot hold (1e400 in jsonb): no writer ever hashed this metadata.
    return { ok: false, sealedAtSeq: null, detail: 'its metadata is not representable as JSON' };
  }
  const canonical = canonicalHashedFields(fieldsOf(row, metadataJson, seq), version);
  if (chainHash(row.prev_hash, canonical) === row.hash)
    return { ok: true, degraded: false, canonical };
  // A row moved to another position still hashes correctly at the position it was sealed at.
  for (let delta = 1; delta <= reorderWindow; delta++) {
    for (const candidate of [seq - delta, seq + delta]) {
      if (candidate < 1) continue;
      if (
        computeRowHash(row.prev_hash, fieldsOf(row, metadataJson, candidate), version) === row.hash
      ) {
        return { ok: false, sealedAtSeq: candidate };
      }
    }
  }
  return { ok: false, sealedAtSeq: null };
}

function checkDegraded(
  row: RowForVerify,
  seq: number,
  encoded: string,
  version: HashVersion,
): RowCheck {
  const original = Buffer.from(encoded, 'base64').toString('utf8');
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(original) as Record<string, unknown>;
  } catch {
    return { ok: false, sealedAtSeq: null, detail: 'the preserved original is not JSON' };
  }
  if (chainHash(row.prev_hash, original) !== row.hash)
    return {
      ok: false,
      sealedAtSeq: null,
      detail: 'the preserved original does not match the hash',
    };
  const stored = row as unknown as Record<string, unknown>;
  for (const c of canonicalColumns(version)) {
    if (c.column === 'metadata') continue;
    const value = fields[c.column] ?? null;
    let expected: unknown;
    if (c.column === 'chain_seq') {
      if (value !== seq) return mismatch(c.column);
      continue;
    }
    if (c.column === 'occurred_at') {
      if (typeof value !== 'string') return mismatch(c.column);
      // Unstorable times were replaced by the time of degrading; storable ones are kept exactly.
      if (storableTimestamp(value) !== value) continue;
      expected = value;
      if (Date.parse(String(stored[c.column])) !== Date.parse(value)) return mismatch(c.column);
      continue;
    }
    expected = typeof value === 'string' ? shorten(value) : value;
    if ((stored[c.column] ?? null) !== expected) return mismatch(c.column);
  }
  return { ok: true, degraded: true, canonical: original };
}

function mismatch(column: string): RowCheck {
  return {
    ok: false,
    sealedAtSeq: null,
    detail: `degraded row's ${column} differs from its preserved original`,
  };
}
