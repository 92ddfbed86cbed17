import { AitrailError } from '../../errors.js';
import type { AuditStore } from '../audit-store.js';
import type { HashVersion } from '../hashed-columns.js';
import { InclusionPathBuilder, rootFromInclusionPath } from '../merkle/inclusion.js';
import { INCLUSION_PROOF_FORMAT, type InclusionProof } from '../merkle/proof.js';
import { readChainRows } from './chain-rows.js';
import { loadCheckpoints } from './checkpoints.js';
import { RowChecker } from './row-check.js';

export interface ProveOptions {
  eventId: string;
  /** Rows per statement while the leaves are rebuilt. Default 50,000. */
  pageSize?: number;
}

/**
 * Builds an inclusion proof of one row in the latest tree head that covers it. The chain's rows
 * up to that head are streamed once: each row's hash is checked, its leaf folded into the audit
 * path as it goes past (O(log n) memory), and the path's root compared with the head before the
 * proof is handed out.
 */
export async function proveEvent(
  store: AuditStore,
  options: ProveOptions,
): Promise<InclusionProof> {
  if (typeof options?.eventId !== 'string' || options.eventId.length === 0)
    throw new TypeError('proveEvent: options.eventId must be a non-empty string');
  const pageSize = options.pageSize ?? 50_000;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1)
    throw new TypeError(
      `proveEvent: options.pageSize must be a whole number >= 1, got ${pageSize}`,
    );
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
  const broken = (detail: string) =>
    new AitrailError('CHAIN_BROKEN', `chain ${chainId} ${detail}: run aitrail verify`);
  const path = new InclusionPathBuilder(seq - 1, head.chainSeq);
  const checker = new RowChecker(version, 0);
  let next = 1;
  let canonicalFields = '';
  await readChainRows(store, {
    chainId,
    afterSeq: 0,
    throughSeq: head.chainSeq,
    pageRows: pageSize,
    onRow: (row) => {
      checker.check(row);
      if (checker.seq !== next || !checker.ok || checker.leaf === null)
        throw broken(`does not verify at seq ${checker.seq}`);
      path.add(checker.leaf);
      if (checker.seq === seq) canonicalFields = checker.canonical;
      next += 1;
    },
  });
  if (next !== head.chainSeq + 1)
    throw broken(`has ${next - 1} of the ${head.chainSeq} rows its tree head covers`);
  const leaf = path.leaf as Buffer;
  const auditPath = path.path();
  const root = rootFromInclusionPath(leaf, seq - 1, head.chainSeq, auditPath);
  if (root === null || root.toString('hex') !== head.rootHash)
    throw broken(`does not reproduce its tree head at size ${head.chainSeq}`);
  return {
    format: INCLUSION_PROOF_FORMAT,
    eventId: options.eventId,
    chainId,
    chainSeq: seq,
    leafIndex: seq - 1,
    hashVersion: version,
    canonicalFields,
    leafHash: leaf.toString('hex'),
    auditPath: auditPath.map((h) => h.toString('hex')),
    treeHead: head,
    keyId: head.keyId,
  };
}
