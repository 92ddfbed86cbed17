import type { AuditStore } from '../audit-store.js';
import { GENESIS_HASH } from '../hash-chain.js';
import type { HashVersion } from '../hashed-columns.js';
import type { TreeFrontier } from '../merkle/compact-tree.js';
import { type CheckpointSigner, checkpointHash } from '../writer/checkpoint-signer.js';
import { readChainRows } from './chain-rows.js';
import { ChainWalk, type Fail, type WalkPlan, type WalkSummary } from './chain-walk.js';
import { checkSignatures, type StoredCheckpoint } from './checkpoints.js';
import { type PrunedRange, rangesCovering } from './pruned.js';
import type { ChainReport } from './report.js';
import type { VerifiedChain } from './verified-heads.js';
import type { WalkThreads } from './walk-threads.js';

export type { Fail } from './chain-walk.js';

export interface ChainVerifyOptions {
  chainId: string;
  /** Highest `chain_seq` among the chain's rows; null: no rows. */
  maxSeq: number | null;
  pageRows: number;
  reorderWindow: number;
  since: Date | undefined;
  signer: CheckpointSigner | null;
  maxUnanchoredAgeMs: number | null;
  witnessHeads: readonly StoredCheckpoint[];
  /** A tree head verified by an earlier run (and the tree at it): only what follows is read. */
  resumeFrom: VerifiedChain | null;
  /** The chain's checkpoints (from the verified head on, when resuming): `loadChainCheckpoints`. */
  checkpoints: StoredCheckpoint[];
  /** Ranges retention removed from the chain: `loadChainPrunedRanges`. */
  pruned: PrunedRange[];
  /** Resuming: the rows at the verified head's size (one, unless the database holds two there). */
  resumeRows: ResumeRow[];
  /** When unanchored rows are aged. */
  now: number;
  /** Walk threads to check rows on; null: on this thread. */
  threads: WalkThreads | null;
  fail: Fail;
  onRows: (n: number) => void;
}

/** A chain's checks, from its tree heads through every row to its tail. */
export async function verifyChain(
  store: AuditStore,
  report: ChainReport,
  options: ChainVerifyOptions,
): Promise<VerifiedChain | null> {
  const { fail, signer, chainId, maxSeq, resumeFrom } = options;
  const resumeSeq = resumeFrom?.head.chainSeq ?? null;

  // Resuming: only the checkpoints from the verified head on; rows before it are covered by it.
  const { checkpoints, pruned } = options;
  const treeHeads = checkpoints.filter((c) => c.kind !== 'legacy');
  const genesis = treeHeads.filter((c) => c.kind === 'genesis');
  report.legacy = resumeFrom === null && treeHeads.length === 0;
  report.resumedFrom = resumeSeq;
  report.checkpoints.total = checkpoints.length;
  report.checkpoints.treeHeads = treeHeads.length;
  report.checkpoints.latestSeq = checkpoints.at(-1)?.chainSeq ?? null;
  report.checkpoints.finalSeq = checkpoints.find((c) => c.final)?.chainSeq ?? null;
  const witnessHeads =
    resumeSeq === null
      ? options.witnessHeads
      : options.witnessHeads.filter((h) => h.chainSeq >= resumeSeq);
  report.checkpoints.witnessed = witnessHeads.length;
  const verified = checkSignatures(checkpoints, signer, report, fail);
  const version: HashVersion =
    resumeFrom?.head.hashVersion ?? genesis[0]?.hashVersion ?? (report.legacy ? 1 : 2);
  // A chain without tree heads is read as legacy, unless its first row only hashes as version 2
  // (a current writer's chain whose heads are missing).
  const versionSettled = !report.legacy;

  // The genesis: signed before the first row. Without one, with a key, rows are unproven.
  if (signer && maxSeq !== null && resumeFrom === null) {
    if (report.legacy && verified.size === 0) {
      const rowCount = await countRows(store, chainId);
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
  const chained = resumeFrom ? headsAfter(treeHeads, resumeFrom.head, fail) : treeHeads;
  checkHeadChaining(chained, resumeFrom?.head ?? null, fail);

  // Tree heads to recompute from the rows, by size: the database's, and the witness's.
  const expected = new Map<number, ExpectedHead[]>();
  const expect = (head: StoredCheckpoint, source: ExpectedHead['source']) => {
    if (head.rootHash === null || (resumeSeq !== null && head.chainSeq <= resumeSeq)) return;
    const list = expected.get(head.chainSeq) ?? [];
    list.push({ head, source });
    expected.set(head.chainSeq, list);
  };
  for (const head of treeHeads) expect(head, 'database');
  checkAgainstWitness(checkpoints, witnessHeads, maxSeq, signer, fail);
  for (const head of witnessHeads) expect(head, 'witness');

  // Ranges retention removed under a signed prune record: a gap they cover is not missing.
  if (pruned.length > 0) {
    report.pruned = pruned.map(({ lastHash: _, chainId: __, ...range }) => range);
  }
  // Tree heads are recomputed from the rows; once retention removed leaves, the signed prune
  // record (with the hash of the last removed row) vouches for the cut instead. Resuming, the
  // tree continues from the verified frontier, so only a cut after the verified head stops it.
  const tree: TreeFrontier | null = options.since
    ? null
    : resumeFrom
      ? resumeFrom.frontier && !pruned.some((p) => p.lastSeq > (resumeSeq ?? 0))
        ? resumeFrom.frontier
        : null
      : !report.legacy && pruned.length === 0
        ? { size: 0, hashes: [] }
        : null;

  const anchoredThrough = treeHeads.reduce((n, c) => Math.max(n, c.chainSeq), resumeSeq ?? 0);
  const legacyAnchor = report.legacy ? (report.checkpoints.latestSeq ?? 0) : anchoredThrough;

  // The tree head this run vouches for next time: the newest one the rows reach.
  const nextResume = treeHeads.filter((h) => h.chainSeq <= (maxSeq ?? 0) && h.rootHash).at(-1);

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
  let afterSeq = Number.isFinite(firstInRange)
    ? Math.max(0, firstInRange - 2)
    : Number.MAX_SAFE_INTEGER;
  if (resumeFrom && resumeSeq !== null) {
    expectedSeq = resumeSeq + 1;
    expectedPrev = resumeFrom.head.headHash;
    afterSeq = resumeSeq;
    firstInRange = resumeSeq + 1;
    checkResumePoint(options, resumeSeq);
  }

  const plan: WalkPlan = {
    chainId,
    version,
    versionSettled,
    reorderWindow: options.reorderWindow,
    firstInRange,
    expectedSeq,
    expectedPrev,
    legacyAnchor,
    finalSeq: report.checkpoints.finalSeq,
    latestSeq: report.checkpoints.latestSeq,
    heads: checkpoints.map((c) => ({
      seq: c.chainSeq,
      headHash: c.headHash,
      vouched: c.signature !== null && signer !== null,
    })),
    roots: [...expected.values()].flat().map(({ head, source }) => ({
      size: head.chainSeq,
      rootHash: head.rootHash as string,
      kind: head.kind,
      source,
    })),
    pruned,
    tree,
    frontierAt: tree && nextResume ? nextResume.chainSeq : null,
  };
  const readFrom = maxSeq !== null && afterSeq < maxSeq ? afterSeq : null;
  const walk = await walkRows(store, plan, {
    afterSeq: readFrom,
    rowsToRead: readFrom === null ? 0 : (maxSeq ?? 0) - readFrom,
    pageRows: options.pageRows,
    threads: options.threads,
    fail,
    onRows: options.onRows,
  });
  report.rowsChecked = walk.rowsChecked;
  report.firstSeq = walk.firstSeq;
  report.lastSeq = walk.lastSeq;
  report.degradedRows = walk.degradedRows;
  report.unanchored.rows = walk.unanchoredRows;

  if (tree) {
    const checkedSizes = new Set(walk.checkedSizes);
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
      eventId: report.lastSeq === maxSeq ? walk.lastEventId : null,
      chainSeq: maxSeq,
      detail:
        maxSeq === null
          ? `checkpoint names ${latest} row(s) but the chain has none left`
          : `checkpoint names seq ${latest} but the chain ends at seq ${maxSeq}`,
    });
  }
  if (walk.unanchoredFrom !== null) {
    report.unanchored.oldestAgeMs = await oldestAge(
      store,
      chainId,
      walk.unanchoredFrom,
      options.now,
    );
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

  // What the next run may start from: the newest head the rows reach, its signature checked
  // when a key was given, its root reproduced by the rows (or by the verified frontier).
  if (report.failures > 0 || options.since || report.legacy || !nextResume) return null;
  if (signer && !verified.has(nextResume)) return null;
  if (tree && walk.frontier === null) return null;
  return { head: nextResume, frontier: tree ? walk.frontier : null };
}

/**
 * Reads the rows after `afterSeq` (none when null) through a walk over them: here, or (for
 * chains with rows enough to pay for starting one) on a walk thread that reads them itself.
 */
async function walkRows(
  store: AuditStore,
  plan: WalkPlan,
  options: {
    afterSeq: number | null;
    rowsToRead: number;
    pageRows: number;
    threads: WalkThreads | null;
    fail: Fail;
    onRows: (n: number) => void;
  },
): Promise<WalkSummary> {
  const { afterSeq, threads } = options;
  if (afterSeq !== null && threads !== null && options.rowsToRead >= threads.minRows) {
    return threads.walk(
      plan,
      { afterSeq, pageRows: options.pageRows },
      options.fail,
      options.onRows,
    );
  }
  const walk = new ChainWalk(plan, options.fail, options.onRows);
  if (afterSeq !== null) {
    await readChainRows(store, {
      chainId: plan.chainId,
      afterSeq,
      throughSeq: null,
      pageRows: options.pageRows,
      onRow: (row) => walk.row(row),
    });
  }
  return walk.finish();
}

/** The head a run resumed from, then the heads after it, in chain order. */
function headsAfter(
  heads: readonly StoredCheckpoint[],
  verifiedHead: StoredCheckpoint,
  fail: Fail,
): StoredCheckpoint[] {
  const anchor = checkpointHash(verifiedHead);
  const at = heads.findIndex((h) => checkpointHash(h) === anchor);
  if (at >= 0) return heads.slice(at);
  const same = heads.find(
    (h) => h.chainSeq === verifiedHead.chainSeq && h.kind === verifiedHead.kind,
  );
  fail(
    same
      ? {
          kind: 'rewritten_chain',
          eventId: null,
          chainSeq: verifiedHead.chainSeq,
          detail: `the database's ${same.kind} tree head at size ${same.chainSeq} differs from the one verified before (the --state file's): the chain was rewritten and its heads recomputed`,
        }
      : {
          kind: 'missing_checkpoint',
          eventId: null,
          chainSeq: verifiedHead.chainSeq,
          detail: `the ${verifiedHead.kind} tree head at size ${verifiedHead.chainSeq}, verified before (the --state file's), is no longer in the database`,
        },
  );
  return [verifiedHead, ...heads.filter((h) => h.chainSeq > verifiedHead.chainSeq)];
}

export interface ResumeRow {
  chain_id: string;
  hash: string;
  event_id: string;
}

/** The rows at each resumed chain's verified head size, in one statement. */
export async function loadResumeRows(
  store: AuditStore,
  heads: ReadonlyArray<{ chainId: string; seq: number }>,
): Promise<Map<string, ResumeRow[]>> {
  const byChain = new Map<string, ResumeRow[]>();
  if (heads.length === 0) return byChain;
  const rows = await store.query<ResumeRow>(
    `SELECT l.chain_id, l.hash, l.event_id FROM audit_logs l
     JOIN unnest($1::text[], $2::int8[]) AS head(chain_id, seq)
       ON l.chain_id = head.chain_id AND l.chain_seq = head.seq`,
    [heads.map((h) => h.chainId), heads.map((h) => h.seq)],
  );
  for (const row of rows) byChain.set(row.chain_id, [...(byChain.get(row.chain_id) ?? []), row]);
  return byChain;
}

/**
 * Resuming: the rows must still reach the verified head, and the row at its size must still hold
 * the hash the head names (a chain rewritten before the head, hashes recomputed, shows here).
 */
function checkResumePoint(options: ChainVerifyOptions, size: number): void {
  const { fail, maxSeq, resumeFrom, pruned } = options;
  if (!resumeFrom || size === 0) return;
  if ((maxSeq === null || maxSeq < size) && !rangesCovering(pruned, (maxSeq ?? 0) + 1, size)) {
    fail({
      kind: 'rolled_back',
      eventId: null,
      chainSeq: maxSeq,
      detail: `a run before verified this chain up to size ${size} (the --state file); the database's rows end at ${maxSeq ?? 'nothing'}`,
    });
    return;
  }
  const rows = options.resumeRows;
  if (rows.length === 0) {
    if (rangesCovering(pruned, size, size)) return;
    fail({
      kind: 'deleted_row',
      eventId: null,
      chainSeq: size,
      detail: `the row at seq ${size}, which the verified tree head names, is gone`,
    });
    return;
  }
  for (const row of rows) {
    if (rows.length === 1 && row.hash === resumeFrom.head.headHash) continue;
    fail({
      kind: 'rewritten_chain',
      eventId: row.event_id,
      chainSeq: size,
      detail:
        rows.length > 1
          ? `${rows.length} rows hold seq ${size}, which the verified tree head names`
          : `the verified tree head at size ${size} names head hash ${resumeFrom.head.headHash.slice(0, 12)}…, the row now holds ${row.hash.slice(0, 12)}…: the rows before it were rewritten`,
    });
  }
}

async function countRows(store: AuditStore, chainId: string): Promise<number> {
  const [row] = await store.query<{ n: string | number }>(
    'SELECT count(*) AS n FROM audit_logs WHERE chain_id = $1',
    [chainId],
  );
  return Number(row?.n ?? 0);
}

async function oldestAge(
  store: AuditStore,
  chainId: string,
  fromSeq: number,
  now: number,
): Promise<number | null> {
  const [row] = await store.query<{ oldest: string | null }>(
    `SELECT to_char(min(recorded_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS oldest
     FROM audit_logs WHERE chain_id = $1 AND chain_seq >= $2`,
    [chainId, fromSeq],
  );
  return row?.oldest ? Math.max(0, now - Date.parse(row.oldest)) : null;
}

/** A tree head to check against the rows: from the database or from the witness. */
interface ExpectedHead {
  head: StoredCheckpoint;
  source: 'database' | 'witness';
}

/**
 * Each tree head names the hash of the one before it, from the genesis on (or from the head a
 * run resumed from): a deleted head leaves its successor pointing at nothing, whatever the key.
 */
function checkHeadChaining(
  heads: readonly StoredCheckpoint[],
  resumedFrom: StoredCheckpoint | null,
  fail: Fail,
): void {
  heads.forEach((head, i) => {
    const previous = heads[i - 1];
    if (previous === undefined) {
      if (resumedFrom !== null) return;
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
  fail: Fail,
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

export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}
