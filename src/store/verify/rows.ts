import { canonicalJson } from '../canonical-json.js';
import { chainHash, computeRowHash, type HashedFields } from '../hash-chain.js';

/** A row as verify reads it: the hashed fields (metadata as jsonb text), plus its links. */
export interface RowForVerify extends Omit<HashedFields, 'chain_seq' | 'subject_id'> {
  subject_id: string | null;
  /** bigint: postgres.js returns it as text. */
  chain_seq: string | number;
  prev_hash: string;
  hash: string;
}

export const ROW_COLUMNS = `id::text, event_id,
  to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
  tenant_id, actor_type, actor_id, action, outcome, resource_type, resource_id, conversation_id,
  task_id, agent_name, tool_name, approval_id, metadata::text AS metadata, trace_id, span_id,
  service_name, subject_id, chain_id, chain_seq, prev_hash, hash`;

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
    ...(row.subject_id === null ? {} : { subject_id: row.subject_id }),
    chain_id: row.chain_id,
    chain_seq: chainSeq,
  };
}

export type RowCheck = { ok: true; degraded: boolean } | { ok: false; sealedAtSeq: number | null };

/** Does the row's content match its hash? Degraded rows are checked against their preserved original. */
export function checkRowHash(row: RowForVerify, seq: number, reorderWindow: number): RowCheck {
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
