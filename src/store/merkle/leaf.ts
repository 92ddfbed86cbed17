import type { SealedAuditRecord } from '../audit-record.js';
import { canonicalOfRecord } from '../hash-chain.js';
import type { HashVersion } from '../hashed-columns.js';
import { leafHash } from './tree-hash.js';

/**
 * The leaf bytes of a sealed record: its canonical hashed fields. A record stored degraded
 * (the database rejected it) keeps its original fields in metadata; those are the leaf.
 */
export function leafBytesOfRecord(record: SealedAuditRecord, version: HashVersion = 2): string {
  const original = (record.metadata as { aitrailPoison?: { original?: unknown } } | null)
    ?.aitrailPoison?.original;
  if (typeof original === 'string') return Buffer.from(original, 'base64').toString('utf8');
  return canonicalOfRecord(record, version);
}

/** The RFC 9162 leaf hash of a row, from its canonical hashed fields (what `aitrail prove` prints). */
export function rowLeafHash(canonicalFields: string): Buffer {
  return leafHash(Buffer.from(canonicalFields, 'utf8'));
}
