import type { CheckpointRecord } from './audit-record.js';
import type { AuditStore } from './audit-store.js';
import { canonicalJson } from './canonical-json.js';
import { chainHash, computeRowHash, GENESIS_HASH, type HashedFields } from './hash-chain.js';
import type { CheckpointSigner } from './writer/checkpoint-signer.js';

/** What `verify` found wrong with a chain. */
export type TamperKind =
  /** The row's content no longer matches its hash. */
  | 'modified_row'
  /** Sequence numbers are missing: rows were deleted. */
  | 'deleted_row'
  /** A self-consistent row that does not link to its predecessor: forged or inserted. */
  | 'forged_row'
  /** A row that hashes correctly only at another sequence number: rows were reordered. */
  | 'reordered_row'
  /** A checkpoint names rows beyond the chain's last row: the tail was cut off. */
  | 'truncated_tail'
  /** A checkpoint whose signature does not verify. */
  | 'forged_checkpoint'
  /** A validly signed checkpoint whose head hash differs from the row at its sequence: the chain was recomputed. */
  | 'rewritten_chain';

export interface ChainFailure {
  kind: TamperKind;
  /** The row where the failure shows (for a deletion: the first row after the gap). */
  eventId: string | null;
  chainSeq: number | null;
  detail: string;
}

export interface ChainReport {
  chainId: string;
  rowsChecked: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Rows stored in degraded form after the database rejected them (their original is verified). */
  degradedRows: number;
  checkpoints: { total: number; signed: number; verified: number; latestSeq: number | null };
  failures: number;
  firstFailure: ChainFailure | null;
}

export interface VerifyReport {
  ok: boolean;
  rowsChecked: number;
  chains: ChainReport[];
  /** How far checkpoint signatures could be checked. */
  signatures: 'verified' | 'unsigned' | 'not_checked' | 'none';
  notes: string[];
}

export interface VerifyOptions {
  /** Only this chain. */
  chainId?: string;
  /** Start each chain at its first row at or after this time (its link to the row before is checked). */
  since?: Date | string;
  /** Key to check checkpoint signatures with (HMAC secret or Ed25519 key). */
  signer?: CheckpointSigner | null;
  /** Rows per page; memory stays constant whatever the table size. Default 5000. */
  pageSize?: number;
  /** How far from its position a row is searched for when checking reordering. Default 1000. */
  reorderWindow?: number;
  onProgress?: (rowsChecked: number, rowsTotal: number) => void;
}

interface RowForVerify {
  id: string;
  event_id: string;
  occurred_at: string;
  tenant_id: string | null;
  actor_type: string;
  actor_id: string;
  action: string;
  outcome: string;
  resource_type: string | null;
  resource_id: string | null;
  conversation_id: string | null;
  task_id: string | null;
  agent_name: string | null;
  tool_name: string | null;
  approval_id: string | null;
  metadata: string;
  trace_id: string;
  span_id: string;
  service_name: string | null;
  chain_id: string;
  chain_seq: string | number;
  prev_hash: string;
  hash: string;
}

const ROW_COLUMNS = `id::text, event_id,
  to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
  tenant_id, actor_type, actor_id, action, outcome, resource_type, resource_id, conversation_id,
  task_id, agent_name, tool_name, approval_id, metadata::text AS metadata, trace_id, span_id,
  service_name, chain_id, chain_seq, prev_hash, hash`;

function fieldsOf(row: RowForVerify, metadataJson: string, chainSeq: number): HashedFields {
  return {
    id: row.id,
    event_id: row.event_id,
    occurred_at: row.occurred_at,
    tenant_id: row.tenant_id,
    actor_type: row.actor_type,
    actor_id: row.actor_id,
    action: row.action,
    outcome: row.outcome,
    resource_type: row.resource_type,
    resource_id: row.resource_id,
    conversation_id: row.conversation_id,
    task_id: row.task_id,
    agent_name: row.agent_name,
    tool_name: row.tool_name,
    approval_id: row.approval_id,
    metadata: metadataJson,
    trace_id: row.trace_id,
    span_id: row.span_id,
    service_name: row.service_name,
    chain_id: row.chain_id,
    chain_seq: chainSeq,
  };
}

type RowCheck = { ok: true; degraded: boolean } | { ok: false; sealedAtSeq: number | null };

/** Does the row's content match its hash? Degraded rows are checked against their preserved original. */
function checkRowHash(row: RowForVerify, seq: number, reorderWindow: number): RowCheck {
  let metadata: unknown;
  try {
    metadata = JSON.parse(row.metadata);
  } catch {
    return { ok: false, sealedAtSeq: null };
  }
  const poison = (metadata as { aitrailPoison?: { original?: unknown } } | null)?.aitrailPoison;
  if (poison && typeof poison.original === 'string') {
    const original = Buffer.from(poison.original, 'base64').toString('utf8');
    let fields: Partial<HashedFields>;
    try {
      fields = JSON.parse(original) as Partial<HashedFields>;
    } catch {
      return { ok: false, sealedAtSeq: null };
    }
    const consistent =
      fields.id === row.id && fields.chain_id === row.chain_id && fields.chain_seq === seq;
    const hash = chainHash(row.prev_hash, original);
    return consistent && hash === row.hash
      ? { ok: true, degraded: true }
      : { ok: false, sealedAtSeq: null };
  }
  const metadataJson = canonicalJson(metadata);
  if (computeRowHash(row.prev_hash, fieldsOf(row, metadataJson, seq)) === row.hash)
    return { ok: true, degraded: false };
  // A row moved to another position still hashes correctly at the position it was sealed at.
  for (let delta = 1; delta <= reorderWindow; delta++) {
    for (const candidate of [seq - delta, seq + delta]) {
      if (candidate < 1) continue;
      if (computeRowHash(row.prev_hash, fieldsOf(row, metadataJson, candidate)) === row.hash) {
        return { ok: false, sealedAtSeq: candidate };
      }
    }
  }
  return { ok: false, sealedAtSeq: null };
}

interface ChainSummary {
  chain_id: string;
  rows: string | number;
}

interface CheckpointRow {
  chain_id: string;
  chain_seq: string | number;
  head_hash: string;
  created_at: string;
  service_name: string | null;
  algorithm: CheckpointRecord['algorithm'];
  key_id: string | null;
  signature: string | null;
}

/**
 * Streams every chain in sequence order (keyset pages: constant memory) and checks each row's
 * hash, each link, sequence continuity, and each checkpoint (signature, head hash, tail).
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
  const chainFilter = options.chainId === undefined ? '' : 'WHERE chain_id = $1';
  const chainParams = options.chainId === undefined ? [] : [options.chainId];
  const summaries = await store.query<ChainSummary>(
    `SELECT chain_id, count(*) AS rows FROM audit_logs ${chainFilter} GROUP BY chain_id
     UNION SELECT chain_id, 0 FROM audit_checkpoints ${chainFilter}
       ${chainFilter ? 'AND' : 'WHERE'} chain_id NOT IN (SELECT chain_id FROM audit_logs)
     ORDER BY chain_id`,
    chainParams,
  );
  const rowsTotal = summaries.reduce((n, s) => n + Number(s.rows), 0);
  const report: VerifyReport = {
    ok: true,
    rowsChecked: 0,
    chains: [],
    signatures: 'none',
    notes: [],
  };
  let signedSeen = 0;
  let unsignedSeen = 0;

  for (const summary of summaries) {
    const chain = await verifyChain(store, summary.chain_id, {
      pageSize,
      reorderWindow,
      since,
      signer: options.signer ?? null,
      onRows: (n) => {
        report.rowsChecked += n;
        options.onProgress?.(report.rowsChecked, rowsTotal);
      },
    });
    signedSeen += chain.checkpoints.signed;
    unsignedSeen += chain.checkpoints.total - chain.checkpoints.signed;
    if (chain.failures > 0) report.ok = false;
    report.chains.push(chain);
  }

  if (signedSeen === 0 && unsignedSeen === 0) {
    report.signatures = 'none';
    report.notes.push('no checkpoints found: a truncated tail cannot be detected');
  } else if (signedSeen === 0) {
    report.signatures = 'unsigned';
    report.notes.push(
      'checkpoints are unsigned (no AITRAIL_SIGNING_KEY when written): a rewritten chain cannot be detected',
    );
  } else if (!options.signer) {
    report.signatures = 'not_checked';
    report.notes.push(
      'checkpoint signatures were not checked: pass the signing key (AITRAIL_SIGNING_KEY)',
    );
  } else {
    report.signatures = unsignedSeen > 0 ? 'not_checked' : 'verified';
    if (unsignedSeen > 0) report.notes.push(`${unsignedSeen} checkpoint(s) are unsigned`);
  }
  return report;
}

async function verifyChain(
  store: AuditStore,
  chainId: string,
  options: {
    pageSize: number;
    reorderWindow: number;
    since: Date | undefined;
    signer: CheckpointSigner | null;
    onRows: (n: number) => void;
  },
): Promise<ChainReport> {
  const report: ChainReport = {
    chainId,
    rowsChecked: 0,
    firstSeq: null,
    lastSeq: null,
    degradedRows: 0,
    checkpoints: { total: 0, signed: 0, verified: 0, latestSeq: null },
    failures: 0,
    firstFailure: null,
  };
  const fail = (failure: ChainFailure) => {
    report.failures += 1;
    report.firstFailure ??= failure;
  };

  const checkpointRows = await store.query<CheckpointRow>(
    `SELECT chain_id, chain_seq, head_hash,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at,
       service_name, algorithm, key_id, signature
     FROM audit_checkpoints WHERE chain_id = $1 ORDER BY chain_seq`,
    [chainId],
  );
  const checkpoints = checkpointRows.map((c) => ({ ...c, seq: Number(c.chain_seq) }));
  report.checkpoints.total = checkpoints.length;
  report.checkpoints.latestSeq = checkpoints.at(-1)?.seq ?? null;
  for (const c of checkpoints) {
    if (c.signature === null || c.algorithm === 'none') continue;
    report.checkpoints.signed += 1;
    if (!options.signer) continue;
    const record: CheckpointRecord = {
      chainId: c.chain_id,
      chainSeq: c.seq,
      headHash: c.head_hash,
      createdAt: storedTimestampToIso(c.created_at),
      serviceName: c.service_name,
      algorithm: c.algorithm,
      keyId: c.key_id,
      signature: c.signature,
    };
    if (c.key_id !== options.signer.keyId || !options.signer.verify(record)) {
      fail({
        kind: 'forged_checkpoint',
        eventId: null,
        chainSeq: c.seq,
        detail: `checkpoint at seq ${c.seq} has a signature that does not verify with key ${options.signer.keyId}`,
      });
    } else {
      report.checkpoints.verified += 1;
    }
  }
  const checkpointAt = new Map(checkpoints.map((c) => [c.seq, c]));

  let startSeq = 0;
  if (options.since) {
    const [first] = await store.query<{ seq: string | number | null }>(
      'SELECT min(chain_seq) AS seq FROM audit_logs WHERE chain_id = $1 AND occurred_at >= $2',
      [chainId, options.since.toISOString()],
    );
    // Start one row early so the first row's link is checked too.
    startSeq = first?.seq == null ? Number.MAX_SAFE_INTEGER : Math.max(0, Number(first.seq) - 2);
  }

  let expectedSeq: number | null = startSeq === 0 ? 1 : null;
  let expectedPrev: string | null = startSeq === 0 ? GENESIS_HASH : null;
  let previousEventId: string | null = null;
  let afterSeq = startSeq;
  for (;;) {
    const page = await store.query<RowForVerify>(
      `SELECT ${ROW_COLUMNS} FROM audit_logs WHERE chain_id = $1 AND chain_seq > $2 ORDER BY chain_seq LIMIT $3`,
      [chainId, afterSeq, options.pageSize],
    );
    if (page.length === 0) break;
    for (const row of page) {
      const seq = Number(row.chain_seq);
      report.firstSeq ??= seq;
      const check = checkRowHash(row, seq, options.reorderWindow);
      if (!check.ok) {
        if (check.sealedAtSeq !== null) {
          fail({
            kind: 'reordered_row',
            eventId: row.event_id,
            chainSeq: seq,
            detail: `row sealed at seq ${check.sealedAtSeq} now sits at seq ${seq}`,
          });
        } else {
          fail({
            kind: 'modified_row',
            eventId: row.event_id,
            chainSeq: seq,
            detail: `row at seq ${seq} does not match its hash`,
          });
        }
      } else {
        if (check.degraded) report.degradedRows += 1;
        if (expectedSeq !== null && seq > expectedSeq) {
          const missing = seq - expectedSeq;
          fail({
            kind: 'deleted_row',
            eventId: row.event_id,
            chainSeq: seq,
            detail:
              `${missing} row(s) missing before seq ${seq} (seq ${expectedSeq}${missing > 1 ? `..${seq - 1}` : ''})` +
              (report.checkpoints.latestSeq === null || expectedSeq > report.checkpoints.latestSeq
                ? '; no checkpoint covers them, so a batch lost when the writer process crashed looks the same'
                : '; a checkpoint covers them: they were written, then removed'),
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
      const checkpoint = checkpointAt.get(seq);
      if (checkpoint && checkpoint.head_hash !== row.hash) {
        const vouched = checkpoint.signature !== null && options.signer !== null;
        fail({
          kind: 'rewritten_chain',
          eventId: row.event_id,
          chainSeq: seq,
          detail:
            `checkpoint at seq ${seq} names head hash ${checkpoint.head_hash.slice(0, 12)}…, the row holds ${row.hash.slice(0, 12)}…` +
            (vouched
              ? ''
              : ' (checkpoint signature not checked: the checkpoint itself may be the forgery)'),
        });
      }
      expectedSeq = seq + 1;
      expectedPrev = row.hash;
      previousEventId = row.event_id;
      report.lastSeq = seq;
      if (seq > startSeq) report.rowsChecked += 1;
      afterSeq = seq;
    }
    options.onRows(page.length);
  }

  const latest = report.checkpoints.latestSeq;
  if (latest !== null && (report.lastSeq === null || latest > report.lastSeq)) {
    fail({
      kind: 'truncated_tail',
      eventId: previousEventId,
      chainSeq: report.lastSeq,
      detail:
        report.lastSeq === null
          ? `checkpoint names ${latest} row(s) but the chain has none left`
          : `checkpoint names seq ${latest} but the chain ends at seq ${report.lastSeq}`,
    });
  }
  return report;
}

/** Checkpoints store `created_at` as timestamptz; their signature covers the ISO string with milliseconds. */
function storedTimestampToIso(isoMicros: string): string {
  return `${isoMicros.slice(0, 23)}Z`;
}
