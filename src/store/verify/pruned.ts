import { createHash } from 'node:crypto';
import type { AuditStore } from '../audit-store.js';
import { canonicalJson } from '../canonical-json.js';
import type { CheckpointSigner } from '../writer/checkpoint-signer.js';

/** The rows of one chain a prune removed (the `chains` of an `audit_prunes` row). */
export interface PrunedChainRange {
  chainId: string;
  firstSeq: number;
  lastSeq: number;
  /** Hash of the last removed row: the next row's `prev_hash` must equal it. */
  lastHash: string;
  rows: number;
}

/** A range of one chain that a signed prune record says retention removed. */
export interface PrunedRange extends PrunedChainRange {
  pruneId: string;
  partitionName: string;
  rangeFrom: string;
  rangeTo: string;
  /** Whether the prune record's signature verifies: null without a key to check it with. */
  signatureValid: boolean | null;
}

/** The fields of a prune record its signature covers. */
export interface PruneRecordFields {
  id: string;
  partitionName: string;
  rangeFrom: string;
  rangeTo: string;
  prunedAt: string;
  rowsRemoved: number;
  chains: PrunedChainRange[];
}

export function pruneDigest(p: PruneRecordFields): string {
  return createHash('sha256')
    .update(
      canonicalJson({
        chains: p.chains,
        id: p.id,
        partition_name: p.partitionName,
        pruned_at: p.prunedAt,
        range_from: p.rangeFrom,
        range_to: p.rangeTo,
        rows_removed: p.rowsRemoved,
      }),
    )
    .digest('hex');
}

/** The prune record as the statement the checkpoint signer signs and verifies. */
export function pruneStatement(p: PruneRecordFields, signer: CheckpointSigner | null) {
  return {
    chainId: `prune:${p.id}`,
    // Signed in the checkpoint signer's legacy statement shape: chain, count and digest.
    kind: 'legacy' as const,
    rootHash: null,
    prevCheckpointHash: null,
    hashVersion: 1 as const,
    chainSeq: p.rowsRemoved,
    headHash: pruneDigest(p),
    createdAt: p.prunedAt,
    serviceName: null,
    algorithm: signer ? signer.algorithm : ('none' as const),
    keyId: signer ? signer.keyId : null,
    final: true,
  };
}

interface PruneRow {
  id: string;
  partition_name: string;
  range_from: string;
  range_to: string;
  pruned_at: string;
  rows_removed: string | number;
  chains: PrunedChainRange[];
  algorithm: string;
  key_id: string | null;
  signature: string | null;
}

const ISO = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${column}`;

/**
 * Every range of `chainId` removed by retention, by sequence, with whether its signed record
 * verifies under `signer`. Verify treats a gap these ranges cover as pruned, not missing.
 * A database without the prune table (before migration 0004) has none.
 */
export async function loadPrunedRanges(
  store: AuditStore,
  chainId: string,
  signer: CheckpointSigner | null,
): Promise<PrunedRange[]> {
  return (await loadChainPrunedRanges(store, signer, chainId)).get(chainId) ?? [];
}

/** The same for every chain (or one), in one statement: prune records are few. */
export async function loadChainPrunedRanges(
  store: AuditStore,
  signer: CheckpointSigner | null,
  chainId?: string,
): Promise<Map<string, PrunedRange[]>> {
  const byChain = new Map<string, PrunedRange[]>();
  const [table] = await store.query<{ found: boolean }>(
    "SELECT to_regclass('audit_prunes') IS NOT NULL AS found",
  );
  if (!table?.found) return byChain;
  const rows = await store.query<PruneRow>(
    `SELECT id::text, partition_name, ${ISO('range_from')}, ${ISO('range_to')}, ${ISO('pruned_at')},
       rows_removed, chains, algorithm, key_id, signature
     FROM audit_prunes${chainId === undefined ? '' : ' WHERE chains @> $1::jsonb'}`,
    chainId === undefined ? [] : [JSON.stringify([{ chainId }])],
  );
  for (const row of rows) {
    const fields: PruneRecordFields = {
      id: row.id,
      partitionName: row.partition_name,
      rangeFrom: row.range_from,
      rangeTo: row.range_to,
      prunedAt: row.pruned_at,
      rowsRemoved: Number(row.rows_removed),
      chains: row.chains,
    };
    const statement = pruneStatement(fields, signer);
    const signatureValid =
      signer === null
        ? null
        : row.signature !== null &&
          row.key_id === signer.keyId &&
          signer.verify({ ...statement, signature: row.signature });
    for (const chain of row.chains) {
      if (chainId !== undefined && chain.chainId !== chainId) continue;
      const list = byChain.get(chain.chainId) ?? [];
      list.push({
        ...chain,
        pruneId: row.id,
        partitionName: row.partition_name,
        rangeFrom: row.range_from,
        rangeTo: row.range_to,
        signatureValid,
      });
      byChain.set(chain.chainId, list);
    }
  }
  for (const list of byChain.values()) list.sort((a, b) => a.firstSeq - b.firstSeq);
  return byChain;
}

/**
 * The pruned ranges that together cover `from..to` exactly (contiguous), or null when some
 * sequence number in it is not accounted for by a trusted prune record.
 */
export function rangesCovering(
  ranges: readonly PrunedRange[],
  from: number,
  to: number,
): PrunedRange[] | null {
  const used: PrunedRange[] = [];
  let next = from;
  for (const range of ranges) {
    if (range.signatureValid === false) continue;
    if (range.lastSeq < next) continue;
    if (range.firstSeq !== next) break;
    used.push(range);
    next = range.lastSeq + 1;
    if (next > to) return range.lastSeq === to ? used : null;
  }
  return null;
}
