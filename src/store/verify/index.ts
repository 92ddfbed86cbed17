import type { AuditStore } from '../audit-store.js';
import { GENESIS_HASH } from '../hash-chain.js';
import type { HashVersion } from '../hashed-columns.js';
import { CompactTree } from '../merkle/compact-tree.js';
import { rowLeafHash } from '../merkle/leaf.js';
import { readWitnessDirectory } from '../merkle/witness.js';
import { type CheckpointSigner, checkpointHash } from '../writer/checkpoint-signer.js';
import { checkSignatures, loadCheckpoints, type StoredCheckpoint } from './checkpoints.js';
import { loadPrunedRanges, rangesCovering } from './pruned.js';
import type { ChainFailure, ChainReport, VerifyOptions, VerifyReport } from './report.js';
import { checkRowHash, ROW_COLUMNS, type RowForVerify } from './rows.js';

export type {
  ChainFailure,
  ChainReport,
  TamperKind,
  VerifyOptions,
  VerifyReport,
} from './report.js';

import { AitrailError } from '../../errors.js';

interface ChainSummary {
  chain_id: string;
  rows: string | number;
  max_seq: string | number | null;
}

/** Thrown when the connected role cannot see every row, so a verdict would be meaningless. */
export class VerifyScopeError extends AitrailError {
  constructor(message: string) {
    super('VERIFY_SCOPE', message);
    this.name = 'VerifyScopeError';
  }
}

/** What no database-only check can catch; verify says so whenever no witness was compared. */
export const WITHOUT_WITNESS_NOTES = [
  'without a witness (--witness DIR), deleting a whole chain together with all its checkpoints cannot be detected',
  "without a witness, cutting a chain's newest tree heads together with the rows after them looks like a chain that simply ended earlier",
  'without a witness, a holder of the signing key can rewrite a chain and re-sign its tree heads',
];

/**
 * Streams every chain in sequence order (keyset pages: constant memory) and checks each row's
 * hash and link, sequence continuity, every tree head (signature, chaining to its predecessor,
 * the Merkle root recomputed from the rows), the genesis, the final head, the age of rows no
 * head covers yet, and, given a witness directory, the database against the witness.
 */
export async function verifyAuditChains(
  store: AuditStore,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const pageSize = options.pageSize ?? 5000;
  const reorderWindow = options.reorderWindow ?? 1000;
  const maxFailures = options.maxFailures ?? 1000;
  const since = options.since === undefined ? undefined : new Date(options.since);
  if (since !== undefined && Number.isNaN(since.getTime())) {
    throw new TypeError(
      `verifyAuditChains: since must be a Date or ISO 8601 timestamp, got ${String(options.since)}`,
    );
  }
  const maxAge = options.maxUnanchoredAgeMs ?? null;
  if (maxAge !== null && (typeof maxAge !== 'number' || !(maxAge >= 0))) {
    throw new TypeError(
      `verifyAuditChains: maxUnanchoredAgeMs must be a number >= 0, got ${maxAge}`,
    );
  }
  const witness = options.witnessDir ? readWitnessDirectory(options.witnessDir) : null;
  await assertSeesEveryRow(store);
  const chainFilter = options.chainId === undefined ? '' : 'WHERE chain_id = $1';
  const summaries = await store.query<ChainSummary>(
    `SELECT chain_id, sum(rows) AS rows, max(max_seq) AS max_seq FROM (
       SELECT chain_id, count(*) AS rows, max(chain_seq) AS max_seq FROM audit_logs ${chainFilter} GROUP BY chain_id
       UNION ALL
       SELECT DISTINCT chain_id, 0, NULL::bigint FROM audit_checkpoints ${chainFilter}
     ) chains GROUP BY chain_id ORDER BY chain_id`,
    options.chainId === undefined ? [] : [options.chainId],
  );
  const rowsTotal = summaries.reduce((n, s) => n + Number(s.rows), 0);
  const report: VerifyReport = {
    ok: true,
    rowsChecked: 0,
    chains: [],
    failures: [],
    failureCount: 0,
    signatures: 'none',
    witness: {
      checked: witness !== null,
      heads: 0,
      unreadableLines: witness?.unreadableLines.length ?? 0,
    },
    notes: [],
  };
  const signer = options.signer ?? null;
  const record = (chain: ChainReport, failure: Omit<ChainFailure, 'chainId'>) => {
    const full = { chainId: chain.chainId, ...failure };
    chain.failures += 1;
    chain.firstFailure ??= full;
    report.ok = false;
    report.failureCount += 1;
    if (report.failures.length < maxFailures) report.failures.push(full);
  };

  if (
    options.chainId !== undefined &&
    summaries.length === 0 &&
    !witness?.chains.has(options.chainId)
  ) {
    const chain = emptyChainReport(options.chainId);
    report.chains.push(chain);
    record(chain, {
      kind: 'truncated_tail',
      eventId: null,
      chainSeq: null,
      detail: 'no rows and no checkpoints: the whole chain is gone, or the chain id is wrong',
    });
  }
  let checkpointsSeen = 0;
  let signedSeen = 0;
  const seen = new Set<string>();
  for (const summary of summaries) {
    seen.add(summary.chain_id);
    const chain = emptyChainReport(summary.chain_id);
    report.chains.push(chain);
    await verifyChain(store, summary, chain, {
      pageSize,
      reorderWindow,
      since,
      signer,
      maxUnanchoredAgeMs: maxAge,
      witnessHeads: witness?.chains.get(summary.chain_id) ?? [],
      fail: (failure) => record(chain, failure),
      onRows: (n) => {
        report.rowsChecked += n;
        options.onProgress?.(report.rowsChecked, rowsTotal);
      },
    });
    if (witness && Number(summary.rows) > 0 && !witness.chains.has(summary.chain_id)) {
      record(chain, {
        kind: 'unwitnessed_chain',
        eventId: null,
        chainSeq: null,
        detail: `${summary.rows} row(s), but the witness holds no tree head of this chain: it was made up in the database${chain.legacy ? ', or it is a legacy chain written before tree heads (verify those without --witness)' : ''}`,
      });
    }
    report.witness.heads += chain.checkpoints.witnessed;
    checkpointsSeen += chain.checkpoints.total;
    signedSeen += chain.checkpoints.signed;
  }
  for (const [chainId, heads] of witness?.chains ?? []) {
    if (seen.has(chainId) || (options.chainId !== undefined && chainId !== options.chainId))
      continue;
    const chain = emptyChainReport(chainId);
    chain.checkpoints.witnessed = heads.length;
    report.witness.heads += heads.length;
    report.chains.push(chain);
    const latest = heads.reduce((n, h) => Math.max(n, h.chainSeq), 0);
    record(chain, {
      kind: 'missing_chain',
      eventId: null,
      chainSeq: latest,
      detail: `the witness holds ${heads.length} tree head(s) of this chain (up to seq ${latest}); the database has neither its rows nor its checkpoints`,
    });
  }

  if (checkpointsSeen === 0) {
    report.signatures = 'none';
    if (summaries.length > 0)
      report.notes.push('no checkpoints found: a truncated tail cannot be detected');
  } else if (signedSeen === 0 && !signer) {
    report.signatures = 'unsigned';
    report.notes.push(
      'checkpoints are unsigned (no AITRAIL_SIGNING_KEY when written): a rewritten chain cannot be detected',
    );
  } else if (!signer) {
    report.signatures = 'not_checked';
    report.notes.push(
      'checkpoint signatures were not checked: pass the signing key (AITRAIL_SIGNING_KEY); without it a made-up chain or re-computed tree heads cannot be told from real ones',
    );
  } else {
    report.signatures = 'verified';
  }
  if (!witness) report.notes.push(...WITHOUT_WITNESS_NOTES);
  else if (witness.unreadableLines.length > 0)
    report.notes.push(`${witness.unreadableLines.length} witness line(s) could not be read`);
  if (since)
    report.notes.push('with --since, tree heads are not recomputed (they cover whole chains)');
  const legacy = report.chains.filter((c) => c.legacy && c.rowsChecked > 0).length;
  if (legacy > 0)
    report.notes.push(
      `${legacy} legacy chain(s) (written before signed tree heads) checked by their row hashes and head checkpoints only`,
    );
  const unanchored = report.chains.filter((c) => c.unanchored.rows > 0);
  if (unanchored.length > 0) {
    const rows = unanchored.reduce((n, c) => n + c.unanchored.rows, 0);
    const oldest = Math.max(...unanchored.map((c) => c.unanchored.oldestAgeMs ?? 0));
    report.notes.push(
      `${rows} row(s) in ${unanchored.length} chain(s) are newer than their chain's last tree head (oldest ${formatAge(oldest)}): not yet covered by a signed head`,
    );
  }
  if (report.failureCount > report.failures.length)
    report.notes.push(
      `${report.failureCount - report.failures.length} more failure(s) not listed (cap ${maxFailures})`,
    );
  if (summaries.length === 0 && options.chainId === undefined)
    report.notes.push('the audit table is empty');
  return report;
}

/**
 * Row-level security would hide rows but not checkpoints, and every chain would look truncated:
 * refuse, and say which role to use, rather than raise a false alarm.
 */
async function assertSeesEveryRow(store: AuditStore): Promise<void> {
  if (store.kind !== 'postgres') return;
  const [scope] = await store.query<{ role: string; sees_all: boolean; rls: boolean }>(
    `SELECT current_user AS role,
       (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) AS sees_all,
       (SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass('audit_logs')) AS rls`,
  );
  if (scope?.rls && !scope.sees_all) {
    throw new VerifyScopeError(
      `verify must see every row, but role "${scope.role}" is subject to row-level security on audit_logs; ` +
        'run it as a superuser or a BYPASSRLS role such as aitrail_auditor',
    );
  }
}

function emptyChainReport(chainId: string): ChainReport {
  return {
    chainId,
    legacy: false,
    rowsChecked: 0,
    firstSeq: null,
    lastSeq: null,
    degradedRows: 0,
    checkpoints: {
      total: 0,
      signed: 0,
      verified: 0,
      treeHeads: 0,
      witnessed: 0,
      latestSeq: null,
      finalSeq: null,
    },
    unanchored: { rows: 0, oldestAgeMs: null },
    failures: 0,
    firstFailure: null,
  };
}

/** A tree head to check against the rows: from the database or from the witness. */
interface ExpectedRoot {
  head: StoredCheckpoint;
  source: 'database' | 'witness';
}

async function verifyChain(
  store: AuditStore,
  summary: ChainSummary,
  report: ChainReport,
  options: {
    pageSize: number;
    reorderWindow: number;
    since: Date | undefined;
    signer: CheckpointSigner | null;
    maxUnanchoredAgeMs: number | null;
    witnessHeads: readonly StoredCheckpoint[];
    fail: (failure: Omit<ChainFailure, 'chainId'>) => void;
    onRows: (n: number) => void;
  },
): Promise<void> {
  const { fail, signer } = options;
  const chainId = summary.chain_id;
  const maxSeq = summary.max_seq === null ? null : Number(summary.max_seq);
  const rowCount = Number(summary.rows);

  const checkpoints = await loadCheckpoints(store, chainId);
  const treeHeads = checkpoints.filter((c) => c.kind !== 'legacy');
  const genesis = treeHeads.filter((c) => c.kind === 'genesis');
  report.legacy = treeHeads.length === 0;
  report.checkpoints.total = checkpoints.length;
  report.checkpoints.treeHeads = treeHeads.length;
  report.checkpoints.witnessed = options.witnessHeads.length;
  report.checkpoints.latestSeq = checkpoints.at(-1)?.chainSeq ?? null;
  report.checkpoints.finalSeq = checkpoints.find((c) => c.final)?.chainSeq ?? null;
  const verified = checkSignatures(checkpoints, signer, report, fail);
  let version: HashVersion = genesis[0]?.hashVersion ?? (report.legacy ? 1 : 2);
  // A chain without tree heads is read as legacy, unless its first row only hashes as version 2
  // (a current writer's chain whose heads are missing).
  let versionSettled = !report.legacy;

  // The genesis: signed before the first row. Without one, with a key, rows are unproven.
  if (signer && rowCount > 0) {
    if (report.legacy && verified.size === 0) {
      fail({
        kind: 'forged_chain',
        eventId: null,
        chainSeq: null,
        detail: `${rowCount} row(s) but no signed genesis and no signed checkpoint: a writer with the key never vouched for this chain`,
      });
    } else if (!report.legacy && !genesis.some((g) => verified.has(g))) {
      fail({
        kind: 'forged_chain',
        eventId: null,
        chainSeq: 0,
        detail: 'the chain has tree heads but no validly signed genesis',
      });
    }
  }
  checkHeadChaining(treeHeads, fail);

  // Tree heads to recompute from the rows, by size: the database's, and the witness's.
  const expected = new Map<number, ExpectedRoot[]>();
  const expect = (head: StoredCheckpoint, source: ExpectedRoot['source']) => {
    if (head.rootHash === null) return;
    const list = expected.get(head.chainSeq) ?? [];
    list.push({ head, source });
    expected.set(head.chainSeq, list);
  };
  for (const head of treeHeads) expect(head, 'database');
  checkAgainstWitness(checkpoints, options.witnessHeads, maxSeq, signer, fail);
  for (const head of options.witnessHeads) expect(head, 'witness');
  const tree = new CompactTree();
  const checkedSizes = new Set<number>();
  // At the row whose seq is a head's size: the root over the rows present up to it.
  const checkRoot = (size: number, eventId: string | null) => {
    const heads = expected.get(size);
    if (!heads) return;
    checkedSizes.add(size);
    const root = tree.root().toString('hex');
    for (const { head, source } of heads) {
      if (head.rootHash === root) continue;
      fail({
        kind: 'rewritten_chain',
        eventId,
        chainSeq: size,
        detail: `the ${source}'s ${head.kind} tree head at size ${size} names root ${head.rootHash?.slice(0, 12)}…; the rows give ${root.slice(0, 12)}…`,
      });
    }
  };
  // Ranges retention removed under a signed prune record: a gap they cover is not missing.
  const pruned = await loadPrunedRanges(store, chainId, options.signer ?? null);
  if (pruned.length > 0) {
    report.pruned = pruned.map(({ lastHash: _, chainId: __, ...range }) => range);
  }
  // Tree heads are recomputed from the rows; once retention removed leaves, the signed prune
  // record (with the hash of the last removed row) vouches for the cut instead.
  const recomputeTree = !options.since && !report.legacy && pruned.length === 0;
  if (recomputeTree) checkRoot(0, null);

  const anchoredThrough = treeHeads.reduce((n, c) => Math.max(n, c.chainSeq), 0);
  const legacyAnchor = report.legacy ? (report.checkpoints.latestSeq ?? 0) : anchoredThrough;
  const headAt = new Map(checkpoints.map((c) => [c.chainSeq, c]));
  const now = Date.now();

  // With `since`, start at the first row in range, one row early so its link is checked too.
  let firstInRange = 1;
  if (options.since) {
    const [first] = await store.query<{ seq: string | number | null }>(
      'SELECT min(chain_seq) AS seq FROM audit_logs WHERE chain_id = $1 AND occurred_at >= $2',
      [chainId, options.since.toISOString()],
    );
    firstInRange = first?.seq == null ? Number.POSITIVE_INFINITY : Number(first.seq);
  }

  let expectedSeq: number | null = firstInRange === 1 ? 1 : null;
  let expectedPrev: string | null = firstInRange === 1 ? GENESIS_HASH : null;
  let previousEventId: string | null = null;
  let afterSeq = Number.isFinite(firstInRange)
    ? Math.max(0, firstInRange - 2)
    : Number.MAX_SAFE_INTEGER;
  for (;;) {
    if (maxSeq === null || afterSeq >= maxSeq) break;
    const page = await store.query<RowForVerify>(
      `SELECT ${ROW_COLUMNS} FROM audit_logs WHERE chain_id = $1 AND chain_seq > $2 ORDER BY chain_seq LIMIT $3`,
      [chainId, afterSeq, options.pageSize],
    );
    if (page.length === 0) break;
    let counted = 0;
    for (const row of page) {
      const seq = Number(row.chain_seq);
      if (seq >= firstInRange) {
        report.firstSeq ??= seq;
        report.rowsChecked += 1;
        counted += 1;
      }
      checkRow(row, seq);
      if (seq > legacyAnchor && report.checkpoints.finalSeq === null) {
        report.unanchored.rows += 1;
        const age = now - Date.parse(row.recorded_at);
        report.unanchored.oldestAgeMs = Math.max(report.unanchored.oldestAgeMs ?? 0, age);
      }
      expectedSeq = seq + 1;
      expectedPrev = row.hash;
      previousEventId = row.event_id;
      report.lastSeq = seq;
      afterSeq = seq;
    }
    options.onRows(counted);
  }

  function checkRow(row: RowForVerify, seq: number): void {
    if (!versionSettled) {
      versionSettled = true;
      if (!checkRowHash(row, seq, 0, 1).ok && checkRowHash(row, seq, 0, 2).ok) version = 2;
    }
    const check = checkRowHash(row, seq, options.reorderWindow, version);
    if (!check.ok) {
      fail(
        check.sealedAtSeq !== null
          ? {
              kind: 'reordered_row',
              eventId: row.event_id,
              chainSeq: seq,
              detail: `row sealed at seq ${check.sealedAtSeq} now sits at seq ${seq}`,
            }
          : {
              kind: 'modified_row',
              eventId: row.event_id,
              chainSeq: seq,
              detail: check.detail
                ? `row at seq ${seq}: ${check.detail}`
                : `row at seq ${seq} does not match its hash`,
            },
      );
    } else {
      if (check.degraded) report.degradedRows += 1;
      const prunedGap =
        expectedSeq !== null && seq > expectedSeq
          ? rangesCovering(pruned, expectedSeq, seq - 1)
          : null;
      if (prunedGap) expectedPrev = prunedGap.at(-1)?.lastHash ?? expectedPrev;
      if (expectedSeq !== null && seq > expectedSeq && !prunedGap) {
        const missing = seq - expectedSeq;
        const covered =
          report.checkpoints.latestSeq !== null && expectedSeq <= report.checkpoints.latestSeq;
        fail({
          kind: 'deleted_row',
          eventId: row.event_id,
          chainSeq: seq,
          detail:
            `${missing} row(s) missing before seq ${seq} (seq ${expectedSeq}${missing > 1 ? `..${seq - 1}` : ''})` +
            (covered
              ? '; a checkpoint covers them: they were written, then removed'
              : '; no checkpoint covers them, so a batch lost when the writer process crashed looks the same'),
        });
      } else if (expectedPrev !== null && row.prev_hash !== expectedPrev) {
        fail({
          kind: 'forged_row',
          eventId: row.event_id,
          chainSeq: seq,
          detail: `row at seq ${seq} does not link to the row before it${previousEventId ? ` (${previousEventId})` : ''}: one of them was forged or inserted`,
        });
      }
    }
    const finalSeq = report.checkpoints.finalSeq;
    if (finalSeq !== null && seq > finalSeq) {
      fail({
        kind: 'forged_row',
        eventId: row.event_id,
        chainSeq: seq,
        detail: `row at seq ${seq} follows the chain's final checkpoint (seq ${finalSeq}): the writer had closed this chain`,
      });
    }
    const checkpoint = headAt.get(seq);
    if (checkpoint && checkpoint.headHash !== row.hash) {
      const vouched = checkpoint.signature !== null && signer !== null;
      fail({
        kind: 'rewritten_chain',
        eventId: row.event_id,
        chainSeq: seq,
        detail:
          `checkpoint at seq ${seq} names head hash ${checkpoint.headHash.slice(0, 12)}…, the row holds ${row.hash.slice(0, 12)}…` +
          (vouched
            ? ''
            : ' (checkpoint signature not checked: the checkpoint itself may be the forgery)'),
      });
    }
    if (recomputeTree) {
      // The leaf is the row as stored: a modified row changes the root, as it should.
      const leafText = check.ok ? check.canonical : `${row.hash}:${seq}:unverifiable`;
      tree.append(rowLeafHash(leafText));
      checkRoot(seq, row.event_id);
    }
  }

  if (recomputeTree) {
    for (const [size, heads] of expected) {
      if (checkedSizes.has(size) || size > (maxSeq ?? 0)) continue;
      fail({
        kind: 'rewritten_chain',
        eventId: null,
        chainSeq: size,
        detail: `the ${heads[0]?.source}'s ${heads[0]?.head.kind} tree head at size ${size} cannot be reproduced: the row at seq ${size} is missing`,
      });
    }
  }
  const latest = report.checkpoints.latestSeq;
  if (
    latest !== null &&
    latest > 0 &&
    (maxSeq === null || latest > maxSeq) &&
    !rangesCovering(pruned, (maxSeq ?? 0) + 1, latest)
  ) {
    fail({
      kind: 'truncated_tail',
      eventId: report.lastSeq === maxSeq ? previousEventId : null,
      chainSeq: maxSeq,
      detail:
        maxSeq === null
          ? `checkpoint names ${latest} row(s) but the chain has none left`
          : `checkpoint names seq ${latest} but the chain ends at seq ${maxSeq}`,
    });
  }
  const limit = options.maxUnanchoredAgeMs;
  const age = report.unanchored.oldestAgeMs;
  if (limit !== null && age !== null && age > limit) {
    fail({
      kind: 'unanchored_rows',
      eventId: null,
      chainSeq: legacyAnchor + 1,
      detail: `${report.unanchored.rows} row(s) after the last tree head (seq ${legacyAnchor}), the oldest ${formatAge(age)} old, past the limit of ${formatAge(limit)}: the writer stopped publishing heads, or the rows were added behind its back`,
    });
  }
}

/**
 * Each tree head names the hash of the one before it, from the genesis on: a deleted head
 * leaves its successor pointing at nothing, whatever the key.
 */
function checkHeadChaining(
  heads: readonly StoredCheckpoint[],
  fail: (failure: Omit<ChainFailure, 'chainId'>) => void,
): void {
  heads.forEach((head, i) => {
    const previous = heads[i - 1];
    if (previous === undefined) {
      if (head.kind !== 'genesis' || head.prevCheckpointHash !== null)
        fail({
          kind: 'missing_checkpoint',
          eventId: null,
          chainSeq: head.chainSeq,
          detail: `the chain's first tree head is a ${head.kind} head at size ${head.chainSeq}: its genesis (and any heads before it) were deleted`,
        });
      return;
    }
    if (head.kind === 'genesis') {
      fail({
        kind: 'forged_checkpoint',
        eventId: null,
        chainSeq: head.chainSeq,
        detail: 'a second genesis tree head',
      });
    } else if (head.prevCheckpointHash !== checkpointHash(previous)) {
      fail({
        kind: 'missing_checkpoint',
        eventId: null,
        chainSeq: head.chainSeq,
        detail: `the ${head.kind} tree head at size ${head.chainSeq} does not name the head before it (size ${previous.chainSeq}) as its predecessor: a tree head between them was deleted or replaced`,
      });
    }
  });
}

/** Heads the witness holds must be in the database, unchanged, and within its rows. */
function checkAgainstWitness(
  stored: readonly StoredCheckpoint[],
  witnessed: readonly StoredCheckpoint[],
  maxSeq: number | null,
  signer: CheckpointSigner | null,
  fail: (failure: Omit<ChainFailure, 'chainId'>) => void,
): void {
  const key = (c: StoredCheckpoint) => `${c.chainSeq}:${c.kind}`;
  const byKey = new Map(stored.map((c) => [key(c), c]));
  let rolledBack = false;
  for (const head of witnessed) {
    if (signer && (head.keyId !== signer.keyId || !signer.verify(head))) {
      fail({
        kind: 'forged_checkpoint',
        eventId: null,
        chainSeq: head.chainSeq,
        detail: `the witness's ${head.kind} tree head at size ${head.chainSeq} does not verify with key ${signer.keyId}`,
      });
      continue;
    }
    const match = byKey.get(key(head));
    if (!match) {
      fail({
        kind: 'missing_checkpoint',
        eventId: null,
        chainSeq: head.chainSeq,
        detail: `the witness holds a ${head.kind} tree head at size ${head.chainSeq} that the database lacks`,
      });
    } else if (checkpointHash(match) !== checkpointHash(head)) {
      fail({
        kind: 'rewritten_chain',
        eventId: null,
        chainSeq: head.chainSeq,
        detail: `the database's ${head.kind} tree head at size ${head.chainSeq} differs from the witnessed one`,
      });
    }
    if (!rolledBack && head.chainSeq > (maxSeq ?? 0)) {
      rolledBack = true;
      fail({
        kind: 'rolled_back',
        eventId: null,
        chainSeq: maxSeq,
        detail: `the witness saw this chain at size ${head.chainSeq}; the database's rows end at ${maxSeq ?? 'nothing'}`,
      });
    }
  }
}

function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}
