import { availableParallelism } from 'node:os';
import { AitrailError } from '../../errors.js';
import type { AuditStore } from '../audit-store.js';
import { readWitnessDirectory } from '../merkle/witness.js';
import { formatAge, loadResumeRows, verifyChain } from './chain-verifier.js';
import { loadChainCheckpoints } from './checkpoints.js';
import { loadChainPrunedRanges } from './pruned.js';
import type { ChainFailure, ChainReport, VerifyOptions, VerifyReport } from './report.js';
import { parseVerifiedHeads, VERIFIED_HEADS_FORMAT, type VerifiedChain } from './verified-heads.js';
import { WalkThreads } from './walk-threads.js';

export type {
  ChainFailure,
  ChainReport,
  TamperKind,
  VerifyOptions,
  VerifyReport,
} from './report.js';
export {
  parseVerifiedHeads,
  VERIFIED_HEADS_FORMAT,
  type VerifiedChain,
  type VerifiedHeads,
} from './verified-heads.js';

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
 * Streams every chain in sequence order (constant memory: one COPY page at a time, two chains at
 * once) and checks each row's hash and link, sequence continuity, every tree head (signature,
 * chaining to its predecessor, the Merkle root recomputed from the rows), the genesis, the final
 * head, the age of rows no head covers yet, and, given a witness directory, the database against
 * the witness. Given the `verified` heads of an earlier run, each chain goes on from its head.
 */
export async function verifyAuditChains(
  store: AuditStore,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const pageSize = wholeNumber('pageSize', options.pageSize, 50_000, 1);
  const reorderWindow = wholeNumber('reorderWindow', options.reorderWindow, 1000, 0);
  const maxFailures = wholeNumber('maxFailures', options.maxFailures, 1000, 0);
  const concurrency = wholeNumber('concurrency', options.concurrency, 2, 1);
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
  const previous =
    options.verified == null
      ? null
      : parseVerifiedHeads(options.verified, 'verifyAuditChains: verified');
  if (previous && since)
    throw new TypeError('verifyAuditChains: since and verified exclude each other');
  const signer = options.signer ?? null;
  const keyId = signer?.keyId ?? null;
  // Heads checked under another key (or none) vouch for nothing under this one.
  const resume = previous && previous.keyId === keyId ? previous : null;
  const witness = options.witnessDir ? readWitnessDirectory(options.witnessDir) : null;
  await assertSeesEveryRow(store);
  const summaries = await listChains(store, options.chainId);
  const known = new Set(summaries.map((s) => s.chainId));
  const resumeSeqOf = (chainId: string) => resume?.chains[chainId]?.head.chainSeq ?? 0;
  const rowsTotal = summaries.reduce(
    (n, s) => n + Math.max(0, (s.maxSeq ?? 0) - resumeSeqOf(s.chainId)),
    0,
  );
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
    threads: 0,
  };
  // Each chain's failures are kept apart while chains run side by side, and joined in chain order.
  const found = new Map<ChainReport, ChainFailure[]>();
  const record = (chain: ChainReport, failure: Omit<ChainFailure, 'chainId'>) => {
    const full = { chainId: chain.chainId, ...failure };
    chain.failures += 1;
    chain.firstFailure ??= full;
    const list = found.get(chain) ?? [];
    if (list.length < maxFailures) list.push(full);
    found.set(chain, list);
  };

  if (
    options.chainId !== undefined &&
    summaries.length === 0 &&
    !witness?.chains.has(options.chainId) &&
    !resume?.chains[options.chainId]
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
  const now = Date.now();
  const nextChains: Record<string, VerifiedChain> = {};
  // What every chain's checks start from, in three statements whatever the number of chains.
  const resumeSeq = (chainId: string) => resume?.chains[chainId]?.head.chainSeq ?? 0;
  const checkpoints = await loadChainCheckpoints(
    store,
    summaries.map((s) => ({ chainId: s.chainId, fromSeq: resumeSeq(s.chainId) })),
  );
  const pruned = await loadChainPrunedRanges(store, signer, options.chainId);
  const resumeRows = await loadResumeRows(
    store,
    summaries
      .filter((s) => resumeSeq(s.chainId) > 0)
      .map((s) => ({ chainId: s.chainId, seq: resumeSeq(s.chainId) })),
  );
  const threads = walkThreads(store, options.threads, concurrency);
  const jobs = summaries.map((summary) => {
    const chain = emptyChainReport(summary.chainId);
    report.chains.push(chain);
    return async () => {
      const next = await verifyChain(store, chain, {
        chainId: summary.chainId,
        maxSeq: summary.maxSeq,
        pageRows: pageSize,
        reorderWindow,
        since,
        signer,
        maxUnanchoredAgeMs: maxAge,
        witnessHeads: witness?.chains.get(summary.chainId) ?? [],
        resumeFrom: resume?.chains[summary.chainId] ?? null,
        checkpoints: checkpoints.get(summary.chainId) ?? [],
        pruned: pruned.get(summary.chainId) ?? [],
        resumeRows: resumeRows.get(summary.chainId) ?? [],
        now,
        threads,
        fail: (failure) => record(chain, failure),
        onRows: (n) => {
          report.rowsChecked += n;
          options.onProgress?.(report.rowsChecked, rowsTotal);
        },
      });
      // A chain with failures keeps the head it came with (heads of another key are not kept).
      const kept = next ?? resume?.chains[summary.chainId];
      if (kept) nextChains[summary.chainId] = kept;
      if (witness && summary.maxSeq !== null && !witness.chains.has(summary.chainId)) {
        const rows = await countRows(store, summary.chainId);
        record(chain, {
          kind: 'unwitnessed_chain',
          eventId: null,
          chainSeq: null,
          detail: `${rows} row(s), but the witness holds no tree head of this chain: it was made up in the database${chain.legacy ? ', or it is a legacy chain written before tree heads (verify those without --witness)' : ''}`,
        });
      }
    };
  });
  try {
    await runWithConcurrency(jobs, concurrency);
  } finally {
    report.threads = threads?.started ?? 0;
    await threads?.close();
  }

  for (const [chainId, heads] of witness?.chains ?? []) {
    if (known.has(chainId) || (options.chainId !== undefined && chainId !== options.chainId))
      continue;
    const chain = emptyChainReport(chainId);
    chain.checkpoints.witnessed = heads.length;
    report.chains.push(chain);
    const latest = heads.reduce((n, h) => Math.max(n, h.chainSeq), 0);
    record(chain, {
      kind: 'missing_chain',
      eventId: null,
      chainSeq: latest,
      detail: `the witness holds ${heads.length} tree head(s) of this chain (up to seq ${latest}); the database has neither its rows nor its checkpoints`,
    });
  }
  for (const [chainId, entry] of Object.entries(resume?.chains ?? {})) {
    if (known.has(chainId) || (options.chainId !== undefined && chainId !== options.chainId))
      continue;
    nextChains[chainId] = entry;
    if (witness?.chains.has(chainId)) continue;
    const chain = emptyChainReport(chainId);
    chain.resumedFrom = entry.head.chainSeq;
    report.chains.push(chain);
    record(chain, {
      kind: 'missing_chain',
      eventId: null,
      chainSeq: entry.head.chainSeq,
      detail: `a run before verified this chain up to size ${entry.head.chainSeq} (the --state file); the database has neither its rows nor its checkpoints`,
    });
  }
  for (const chain of report.chains) {
    report.witness.heads += chain.checkpoints.witnessed;
    for (const failure of found.get(chain) ?? []) {
      if (report.failures.length < maxFailures) report.failures.push(failure);
    }
    report.failureCount += chain.failures;
  }
  report.ok = report.failureCount === 0;
  const checkpointsSeen = report.chains.reduce((n, c) => n + c.checkpoints.total, 0);
  const signedSeen = report.chains.reduce((n, c) => n + c.checkpoints.signed, 0);
  const resumed = report.chains.filter((c) => c.resumedFrom !== null).length;

  if (checkpointsSeen === 0 && resumed === 0) {
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
  if (previous && !resume)
    report.notes.push(
      `the verified heads were checked ${previous.keyId === null ? 'without a key' : `with key ${previous.keyId}`} and this run ${keyId === null ? 'has none' : `has key ${keyId}`}: every chain was verified from its start`,
    );
  if (resumed > 0)
    report.notes.push(
      `${resumed} chain(s) verified on from a tree head an earlier run verified: rows and checkpoints before it were not read again (a full verify re-reads them)`,
    );
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
  if (!since) {
    // With one chain asked for, the other chains keep what the earlier run verified.
    const carried = options.chainId === undefined ? {} : { ...(resume?.chains ?? {}) };
    report.verified = {
      format: VERIFIED_HEADS_FORMAT,
      keyId,
      verifiedAt: new Date().toISOString(),
      chains: sortedByKey({ ...carried, ...nextChains }),
    };
  }
  return report;
}

/** Chains with fewer rows to read than this are walked on this thread by default. */
const THREAD_MIN_ROWS = 20_000;

/**
 * Walk threads read and check chains over connections of their own, so the rows of the chains
 * checked at once are hashed on as many cores (the database's backends beside them; measured on
 * two cores, see docs/performance.md). By default with two CPUs or more, for a store another
 * thread can reach (`reopenOptions`, streaming `copyOut`): not the embedded store.
 */
function walkThreads(
  store: AuditStore,
  threads: boolean | undefined,
  concurrency: number,
): WalkThreads | null {
  if (threads !== undefined && typeof threads !== 'boolean')
    throw new TypeError(`verifyAuditChains: threads must be a boolean, got ${String(threads)}`);
  const reopen = store.copyOut ? store.reopenOptions?.() : undefined;
  if (threads === false || reopen === undefined) return null;
  if (threads === undefined && (concurrency < 2 || availableParallelism() < 2)) return null;
  return new WalkThreads(concurrency, threads ? 0 : THREAD_MIN_ROWS, reopen.databaseUrl);
}

function wholeNumber(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min)
    throw new TypeError(
      `verifyAuditChains: ${name} must be a whole number >= ${min}, got ${String(value)}`,
    );
  return value;
}

function sortedByKey<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

/** Runs the jobs, `limit` at a time; after a failure no new job starts, and the first error is thrown. */
async function runWithConcurrency(jobs: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < jobs.length && !failed) {
      const job = jobs[next++] as () => Promise<void>;
      try {
        await job();
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.min(limit, jobs.length) }, worker),
  );
  const rejected = results.find((r) => r.status === 'rejected');
  if (rejected) throw (rejected as PromiseRejectedResult).reason;
}

interface ChainSummary {
  chainId: string;
  /** Highest sequence number among its rows; null when it has none (checkpoints only). */
  maxSeq: number | null;
}

/**
 * Every chain with rows or checkpoints, and its highest sequence number: found by skipping
 * through the chain index (one probe per chain), so listing costs nothing per row.
 */
async function listChains(store: AuditStore, chainId: string | undefined): Promise<ChainSummary[]> {
  const rows = await store.query<{ chain_id: string; max_seq: string | number | null }>(
    chainId === undefined
      ? `WITH RECURSIVE chains(chain_id) AS (
           SELECT min(chain_id) FROM audit_logs
           UNION ALL
           SELECT (SELECT min(chain_id) FROM audit_logs WHERE chain_id > chains.chain_id)
           FROM chains WHERE chains.chain_id IS NOT NULL
         ), ids AS (
           SELECT chain_id FROM chains WHERE chain_id IS NOT NULL
           UNION SELECT DISTINCT chain_id FROM audit_checkpoints
         )
         SELECT chain_id, (SELECT max(chain_seq) FROM audit_logs l WHERE l.chain_id = ids.chain_id) AS max_seq
         FROM ids ORDER BY chain_id`
      : `SELECT $1::text AS chain_id, (SELECT max(chain_seq) FROM audit_logs WHERE chain_id = $1) AS max_seq
         WHERE EXISTS (SELECT 1 FROM audit_logs WHERE chain_id = $1)
            OR EXISTS (SELECT 1 FROM audit_checkpoints WHERE chain_id = $1)`,
    chainId === undefined ? [] : [chainId],
  );
  return rows.map((r) => ({
    chainId: r.chain_id,
    maxSeq: r.max_seq === null ? null : Number(r.max_seq),
  }));
}

async function countRows(store: AuditStore, chainId: string): Promise<number> {
  const [row] = await store.query<{ n: string | number }>(
    'SELECT count(*) AS n FROM audit_logs WHERE chain_id = $1',
    [chainId],
  );
  return Number(row?.n ?? 0);
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
    resumedFrom: null,
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
