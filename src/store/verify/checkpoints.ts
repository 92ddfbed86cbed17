import type { CheckpointRecord } from '../audit-record.js';
import type { AuditStore } from '../audit-store.js';
import type { CheckpointSigner } from '../writer/checkpoint-signer.js';
import type { ChainFailure, ChainReport } from './report.js';

/** A checkpoint as stored, with the signed `createdAt` restored. */
export type StoredCheckpoint = CheckpointRecord;

interface CheckpointRow {
  chain_id: string;
  chain_seq: string | number;
  head_hash: string;
  created_at: string;
  service_name: string | null;
  algorithm: CheckpointRecord['algorithm'];
  key_id: string | null;
  signature: string | null;
  final: boolean;
  kind: CheckpointRecord['kind'];
  root_hash: string | null;
  prev_checkpoint_hash: string | null;
  hash_version: string | number;
}

const KIND_ORDER = { genesis: 0, legacy: 1, periodic: 1, final: 2 } as const;

/**
 * A chain's checkpoints (from tree size `fromSeq` on) by tree size; at one size the genesis comes
 * first and the final last.
 */
export async function loadCheckpoints(
  store: AuditStore,
  chainId: string,
  fromSeq = 0,
): Promise<StoredCheckpoint[]> {
  const chains = await loadChainCheckpoints(store, [{ chainId, fromSeq }]);
  return chains.get(chainId) ?? [];
}

/**
 * The checkpoints of many chains in one statement, each chain's from its own tree size on (a
 * resumed chain's from its verified head), in the order of `loadCheckpoints`. `chains` null: every
 * chain, from size 0.
 */
export async function loadChainCheckpoints(
  store: AuditStore,
  chains: ReadonlyArray<{ chainId: string; fromSeq: number }> | null,
): Promise<Map<string, StoredCheckpoint[]>> {
  const columns = `c.chain_id, c.chain_seq, c.head_hash,
       to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at,
       c.service_name, c.algorithm, c.key_id, c.signature, c.final, c.kind, c.root_hash,
       c.prev_checkpoint_hash, c.hash_version`;
  const rows =
    chains === null
      ? await store.query<CheckpointRow>(
          `SELECT ${columns} FROM audit_checkpoints c ORDER BY c.chain_id, c.chain_seq, c.final`,
        )
      : await store.query<CheckpointRow>(
          `SELECT ${columns} FROM audit_checkpoints c
           JOIN unnest($1::text[], $2::int8[]) AS wanted(chain_id, from_seq)
             ON wanted.chain_id = c.chain_id AND c.chain_seq >= wanted.from_seq
           ORDER BY c.chain_id, c.chain_seq, c.final`,
          [chains.map((c) => c.chainId), chains.map((c) => c.fromSeq)],
        );
  const byChain = new Map<string, StoredCheckpoint[]>();
  for (const c of rows) {
    const list = byChain.get(c.chain_id) ?? [];
    list.push({
      chainId: c.chain_id,
      kind: c.kind,
      chainSeq: Number(c.chain_seq),
      headHash: c.head_hash,
      rootHash: c.root_hash,
      prevCheckpointHash: c.prev_checkpoint_hash,
      hashVersion: Number(c.hash_version) === 2 ? (2 as const) : (1 as const),
      // The signature covers the ISO string the writer produced: milliseconds.
      createdAt: `${c.created_at.slice(0, 23)}Z`,
      serviceName: c.service_name,
      algorithm: c.algorithm,
      keyId: c.key_id,
      signature: c.signature,
      final: c.final === true,
    });
    byChain.set(c.chain_id, list);
  }
  for (const list of byChain.values()) {
    list.sort(
      (a, b) =>
        a.chainSeq - b.chainSeq ||
        KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
        Number(a.final) - Number(b.final),
    );
  }
  return byChain;
}

/**
 * Signature checks. Without a key nothing can be proven about a checkpoint; with one, every
 * checkpoint must be signed by it — an unsigned checkpoint in a keyed deployment is how a
 * rewritten chain would try to pass. Returns the checkpoints whose signature verified.
 */
export function checkSignatures(
  checkpoints: readonly StoredCheckpoint[],
  signer: CheckpointSigner | null,
  report: ChainReport,
  fail: (failure: Omit<ChainFailure, 'chainId'>) => void,
): Set<StoredCheckpoint> {
  const verified = new Set<StoredCheckpoint>();
  for (const checkpoint of checkpoints) {
    const signed = checkpoint.signature !== null && checkpoint.algorithm !== 'none';
    if (signed) report.checkpoints.signed += 1;
    if (!signer) continue;
    const what = `${checkpoint.kind} checkpoint at seq ${checkpoint.chainSeq}`;
    if (!signed) {
      fail({
        kind: 'forged_checkpoint',
        eventId: null,
        chainSeq: checkpoint.chainSeq,
        detail: `${what} is unsigned, but a signing key was given: checkpoints of a keyed deployment are always signed`,
      });
    } else if (checkpoint.keyId !== signer.keyId || !signer.verify(checkpoint)) {
      fail({
        kind: 'forged_checkpoint',
        eventId: null,
        chainSeq: checkpoint.chainSeq,
        detail: `${what} has a signature that does not verify with key ${signer.keyId}`,
      });
    } else {
      report.checkpoints.verified += 1;
      verified.add(checkpoint);
    }
  }
  return verified;
}
