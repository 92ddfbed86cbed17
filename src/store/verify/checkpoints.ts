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
}

export async function loadCheckpoints(
  store: AuditStore,
  chainId: string,
): Promise<StoredCheckpoint[]> {
  const rows = await store.query<CheckpointRow>(
    `SELECT chain_id, chain_seq, head_hash,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at,
       service_name, algorithm, key_id, signature, final
     FROM audit_checkpoints WHERE chain_id = $1 ORDER BY chain_seq, final`,
    [chainId],
  );
  return rows.map((c) => ({
    chainId: c.chain_id,
    chainSeq: Number(c.chain_seq),
    headHash: c.head_hash,
    // The signature covers the ISO string the writer produced: milliseconds.
    createdAt: `${c.created_at.slice(0, 23)}Z`,
    serviceName: c.service_name,
    algorithm: c.algorithm,
    keyId: c.key_id,
    signature: c.signature,
    final: c.final === true,
  }));
}

/**
 * Signature checks. Without a key nothing can be proven about a checkpoint; with one, every
 * checkpoint must be signed by it — an unsigned checkpoint in a keyed deployment is how a
 * rewritten chain would try to pass.
 */
export function checkSignatures(
  checkpoints: readonly StoredCheckpoint[],
  signer: CheckpointSigner | null,
  report: ChainReport,
  fail: (failure: ChainFailure) => void,
): void {
  for (const checkpoint of checkpoints) {
    const signed = checkpoint.signature !== null && checkpoint.algorithm !== 'none';
    if (signed) report.checkpoints.signed += 1;
    if (!signer) continue;
    if (!signed) {
      fail({
        kind: 'forged_checkpoint',
        eventId: null,
        chainSeq: checkpoint.chainSeq,
        detail: `checkpoint at seq ${checkpoint.chainSeq} is unsigned, but a signing key was given: checkpoints of a keyed deployment are always signed`,
      });
    } else if (checkpoint.keyId !== signer.keyId || !signer.verify(checkpoint)) {
      fail({
        kind: 'forged_checkpoint',
        eventId: null,
        chainSeq: checkpoint.chainSeq,
        detail: `checkpoint at seq ${checkpoint.chainSeq} has a signature that does not verify with key ${signer.keyId}`,
      });
    } else {
      report.checkpoints.verified += 1;
    }
  }
}
