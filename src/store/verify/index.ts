import type { AuditStore } from '../audit-store.js';
import { GENESIS_HASH } from '../hash-chain.js';
import { checkSignatures, loadCheckpoints } from './checkpoints.js';
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

interface ChainSummary {
  chain_id: string;
  rows: string | number;
  max_seq: string | number | null;
}

/** Thrown when the connected role cannot see every row, so a verdict would be meaningless. */
export class VerifyScopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerifyScopeError';
  }
}

/**
 * Streams every chain in sequence order (keyset pages: constant memory) and checks each row's
 * hash, each link, sequence continuity, and each checkpoint (signature, head hash, tail, final).
 */
export async function verifyAuditChains(
  store: AuditStore,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const pageSize = options.pageSize ?? 5000;
  const reorderWindow = options.reorderWindow ?? 1000;
  const since = options.since === undefined ? undefined : new Date(options.since);
  if (since !== undefined && Number.isNaN(since.getTime())) {
    throw new TypeError(
      `verifyAuditChains: since must be a Date or ISO 8601 timestamp, got ${String(options.since)}`,
    );
  }
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
    signatures: 'none',
    notes: [],
  };
  const signer = options.signer ?? null;

  if (options.chainId !== undefined && summaries.length === 0) {
    report.ok = false;
    report.chains.push({
      ...emptyChainReport(options.chainId),
      failures: 1,
      firstFailure: {
        kind: 'truncated_tail',
        eventId: null,
        chainSeq: null,
        detail: 'no rows and no checkpoints: the whole chain is gone, or the chain id is wrong',
      },
    });
  }
  let checkpointsSeen = 0;
  let signedSeen = 0;
  for (const summary of summaries) {
    const chain = await verifyChain(store, summary, {
      pageSize,
      reorderWindow,
      since,
      signer,
      onRows: (n) => {
        report.rowsChecked += n;
        options.onProgress?.(report.rowsChecked, rowsTotal);
      },
    });
    checkpointsSeen += chain.checkpoints.total;
    signedSeen += chain.checkpoints.signed;
    if (chain.failures > 0) report.ok = false;
    report.chains.push(chain);
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
      'checkpoint signatures were not checked: pass the signing key (AITRAIL_SIGNING_KEY)',
    );
  } else {
    report.signatures = 'verified';
  }
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
    rowsChecked: 0,
    firstSeq: null,
    lastSeq: null,
    degradedRows: 0,
    checkpoints: { total: 0, signed: 0, verified: 0, latestSeq: null, finalSeq: null },
    failures: 0,
    firstFailure: null,
  };
}

async function verifyChain(
  store: AuditStore,
  summary: ChainSummary,
  options: {
    pageSize: number;
    reorderWindow: number;
    since: Date | undefined;
    signer: VerifyOptions['signer'];
    onRows: (n: number) => void;
  },
): Promise<ChainReport> {
  const chainId = summary.chain_id;
  const maxSeq = summary.max_seq === null ? null : Number(summary.max_seq);
  const report = emptyChainReport(chainId);
  const fail = (failure: ChainFailure) => {
    report.failures += 1;
    report.firstFailure ??= failure;
  };

  const checkpoints = await loadCheckpoints(store, chainId);
  report.checkpoints.total = checkpoints.length;
  report.checkpoints.latestSeq = checkpoints.at(-1)?.chainSeq ?? null;
  report.checkpoints.finalSeq = checkpoints.find((c) => c.final)?.chainSeq ?? null;
  checkSignatures(checkpoints, options.signer ?? null, report, fail);
  const headAt = new Map(checkpoints.map((c) => [c.chainSeq, c]));
  // Ranges retention removed under a signed prune record: a gap they cover is not missing.
  const pruned = await loadPrunedRanges(store, chainId, options.signer ?? null);
  if (pruned.length > 0) {
    report.pruned = pruned.map(({ lastHash: _, chainId: __, ...range }) => range);
  }

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
      expectedSeq = seq + 1;
      expectedPrev = row.hash;
      previousEventId = row.event_id;
      report.lastSeq = seq;
      afterSeq = seq;
    }
    options.onRows(counted);
  }

  function checkRow(row: RowForVerify, seq: number): void {
    const check = checkRowHash(row, seq, options.reorderWindow);
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
              detail: `row at seq ${seq} does not match its hash`,
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
      const vouched = checkpoint.signature !== null && options.signer != null;
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
  }

  const latest = report.checkpoints.latestSeq;
  if (
    latest !== null &&
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
  return report;
}
