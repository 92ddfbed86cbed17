import { AitrailError } from '../../errors.js';
import type { AuditStore } from '../audit-store.js';
import type { HashVersion } from '../hashed-columns.js';
import { inclusionPath } from '../merkle/inclusion.js';
import { rowLeafHash } from '../merkle/leaf.js';
import { INCLUSION_PROOF_FORMAT, type InclusionProof } from '../merkle/proof.js';
import { treeHash } from '../merkle/tree-hash.js';
import { loadCheckpoints } from './checkpoints.js';
import { checkRowHash, ROW_COLUMNS, type RowForVerify } from './rows.js';

export interface ProveOptions {
  eventId: string;
  /** Rows read per page while the leaves are rebuilt. Default 10,000. */
  pageSize?: number;
}

/**
 * Builds an inclusion proof of one row in the latest tree head that covers it. The chain's
 * leaves up to that head are rebuilt from the rows (32 bytes each in memory) and the root is
 * checked against the head before the proof is handed out.
 */
export async function proveEvent(
  store: AuditStore,
  options: ProveOptions,
): Promise<InclusionProof> {
  if (typeof options?.eventId !== 'string' || options.eventId.length === 0)
    throw new TypeError('proveEvent: options.eventId must be a non-empty string');
  const pageSize = options.pageSize ?? 10_000;
  const [target] = await store.query<{ chain_id: string; chain_seq: string | number }>(
    'SELECT chain_id, chain_seq FROM audit_logs WHERE event_id = $1',
    [options.eventId],
  );
  if (!target)
    throw new AitrailError('EVENT_NOT_FOUND', `no audit row has event id ${options.eventId}`);
  const chainId = target.chain_id;
  const seq = Number(target.chain_seq);
  const heads = (await loadCheckpoints(store, chainId)).filter(
    (c) => c.kind !== 'legacy' && c.rootHash !== null,
  );
  const head = heads.filter((c) => c.chainSeq >= seq).at(-1);
  if (!head) {
    throw new AitrailError(
      heads.length === 0 ? 'LEGACY_CHAIN' : 'NOT_ANCHORED',
      heads.length === 0
        ? `chain ${chainId} was written before signed tree heads: its rows cannot be proven`
        : `row ${options.eventId} (seq ${seq}) is newer than chain ${chainId}'s last tree head (size ${heads.at(-1)?.chainSeq}); prove it after the next head`,
    );
  }
  const version: HashVersion = head.hashVersion;
  const leaves: Buffer[] = [];
  let canonicalFields = '';
  let after = 0;
  while (after < head.chainSeq) {
    const page = await store.query<RowForVerify>(
      `SELECT ${ROW_COLUMNS} FROM audit_logs WHERE chain_id = $1 AND chain_seq > $2 AND chain_seq <= $3 ORDER BY chain_seq LIMIT $4`,
      [chainId, after, head.chainSeq, pageSize],
    );
    if (page.length === 0) break;
    for (const row of page) {
      const rowSeq = Number(row.chain_seq);
      const check = checkRowHash(row, rowSeq, 0, version);
      if (rowSeq !== leaves.length + 1 || !check.ok) {
        throw new AitrailError(
          'CHAIN_BROKEN',
          `chain ${chainId} does not verify at seq ${rowSeq}: run aitrail verify`,
        );
      }
      leaves.push(rowLeafHash(check.canonical));
      if (rowSeq === seq) canonicalFields = check.canonical;
      after = rowSeq;
    }
  }
  if (leaves.length !== head.chainSeq || treeHash(leaves).toString('hex') !== head.rootHash) {
    throw new AitrailError(
      'CHAIN_BROKEN',
      `the rows of chain ${chainId} do not reproduce its tree head at size ${head.chainSeq}: run aitrail verify`,
    );
  }
  return {
    format: INCLUSION_PROOF_FORMAT,
    eventId: options.eventId,
    chainId,
    chainSeq: seq,
    leafIndex: seq - 1,
    hashVersion: version,
    canonicalFields,
    leafHash: (leaves[seq - 1] as Buffer).toString('hex'),
    auditPath: inclusionPath(leaves, seq - 1).map((h) => h.toString('hex')),
    treeHead: head,
    keyId: head.keyId,
  };
}
