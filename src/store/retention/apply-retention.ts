import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { AuditActor } from '../../actions.js';
import { checkActor, checkStrictKeys } from '../../instrument/options.js';
import { TRAIL_ACTIONS, writeTrailEvent } from '../audit-events.js';
import type { AuditStore } from '../audit-store.js';
import { type PrunedChainRange, type PruneRecordFields, pruneStatement } from '../verify/pruned.js';
import type { CheckpointSigner } from '../writer/checkpoint-signer.js';
import { type LegalHold, legalHoldError } from './legal-holds.js';
import { EVERY_TENANT, listRetentionPolicies } from './policy.js';

export interface ApplyRetentionOptions {
  /** Only report what would be removed. */
  dryRun?: boolean;
  /** The present, for deciding what has expired. Default now. */
  now?: Date;
  signer?: CheckpointSigner | null;
  actor?: AuditActor;
}

/** One monthly partition and what retention decided about it. */
export interface RetentionDecision {
  partition: string;
  rangeFrom: string;
  rangeTo: string;
  rows: number;
  decision: 'prune' | 'keep' | 'held';
  why: string;
  holds?: LegalHold[];
}

export interface PruneRecord extends PruneRecordFields {
  algorithm: string;
  keyId: string | null;
  signature: string | null;
}

export interface RetentionResult {
  dryRun: boolean;
  decisions: RetentionDecision[];
  pruned: PruneRecord[];
}

const PARTITION = /^audit_logs_p(\d{4})_(\d{2})$/;

function addMonths(date: Date, months: number): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
}

/**
 * Removes whole expired months (both the chained rows and their vault rows), never single
 * rows. A partition holds every tenant's rows of its month, so it goes only when the period
 * of every tenant with rows in it has passed (a tenant without a policy keeps forever) and no
 * legal hold covers any of them; a hold stops the whole run with an error. Each removed month
 * leaves a signed prune record that verify reads, and an `audit.retention_applied` event.
 */
export async function applyRetention(
  store: AuditStore,
  options: ApplyRetentionOptions = {},
): Promise<RetentionResult> {
  checkStrictKeys('applyRetention', options, ['dryRun', 'now', 'signer', 'actor']);
  checkActor('applyRetention', 'actor', options.actor, false);
  const now = options.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new TypeError('applyRetention: now must be a valid Date');
  }
  const thisMonth = addMonths(now, 0);
  const policies = new Map((await listRetentionPolicies(store)).map((p) => [p.tenantId, p]));
  const partitions = await store.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'audit_logs'::regclass ORDER BY 1`,
  );
  const decisions: RetentionDecision[] = [];
  for (const { name } of partitions) {
    const match = PARTITION.exec(name);
    if (!match) continue;
    const from = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
    const to = addMonths(from, 1);
    if (to > thisMonth) continue;
    decisions.push(await decide(store, name, from, to, thisMonth, policies));
  }
  const held = decisions.filter((d) => d.decision === 'held');
  if (held.length > 0 && !options.dryRun) {
    throw legalHoldError(
      `retention of ${held.map((d) => d.partition).join(', ')}`,
      held.flatMap((d) => d.holds ?? []),
    );
  }
  const pruned: PruneRecord[] = [];
  if (!options.dryRun) {
    for (const decision of decisions.filter((d) => d.decision === 'prune')) {
      pruned.push(await prunePartition(store, decision, options.signer ?? null));
    }
    await store.query('SELECT aitrail_ensure_partitions($1::timestamptz, 3)', [
      thisMonth.toISOString(),
    ]);
    for (const record of pruned) {
      await writeTrailEvent(store, {
        action: TRAIL_ACTIONS.RETENTION_APPLIED,
        actor: options.actor,
        resourceType: 'audit_prune',
        resourceId: record.id,
        metadata: {
          pruneId: record.id,
          partition: record.partitionName,
          rangeFrom: record.rangeFrom,
          rangeTo: record.rangeTo,
          rowsRemoved: record.rowsRemoved,
        },
        signer: options.signer,
      });
    }
  }
  return { dryRun: options.dryRun === true, decisions, pruned };
}

async function decide(
  store: AuditStore,
  partition: string,
  from: Date,
  to: Date,
  thisMonth: Date,
  policies: Map<string, { keepMonths: number }>,
): Promise<RetentionDecision> {
  const range = [from.toISOString(), to.toISOString()];
  const tenants = await store.query<{ tenant_id: string | null; rows: string | number }>(
    `SELECT tenant_id, count(*) AS rows FROM audit_logs
     WHERE occurred_at >= $1 AND occurred_at < $2 GROUP BY tenant_id`,
    range,
  );
  const base = {
    partition,
    rangeFrom: range[0] as string,
    rangeTo: range[1] as string,
    rows: tenants.reduce((n, t) => n + Number(t.rows), 0),
  };
  if (tenants.length === 0) return { ...base, decision: 'keep', why: 'no rows' };
  for (const { tenant_id } of tenants) {
    const policy = policies.get(tenant_id ?? EVERY_TENANT) ?? policies.get(EVERY_TENANT);
    const label = tenant_id === null ? 'rows without a tenant' : `tenant ${tenant_id}`;
    if (!policy)
      return { ...base, decision: 'keep', why: `${label}: no retention policy (kept forever)` };
    if (to > addMonths(thisMonth, -policy.keepMonths)) {
      return { ...base, decision: 'keep', why: `${label}: kept ${policy.keepMonths} months` };
    }
  }
  const holds = await store.query<{
    id: string;
    tenant_id: string | null;
    subject_id: string | null;
    reason: string;
    placed_at: string;
  }>(
    `SELECT h.id::text, h.tenant_id, h.subject_id, h.reason, h.placed_at::text FROM audit_legal_holds h
     WHERE h.released_at IS NULL AND (
       (h.subject_id IS NULL AND h.tenant_id = ANY($3::text[]))
       OR (h.subject_id IS NOT NULL AND EXISTS (
         SELECT 1 FROM audit_personal_data v WHERE v.occurred_at >= $1 AND v.occurred_at < $2
           AND (v.subject_id = h.subject_id OR v.actor_id = h.subject_id)
           AND (h.tenant_id IS NULL OR v.tenant_id = h.tenant_id))))`,
    [...range, tenants.map((t) => t.tenant_id).filter((t) => t !== null)],
  );
  if (holds.length > 0) {
    return {
      ...base,
      decision: 'held',
      why: `${holds.length} active legal hold(s)`,
      holds: holds.map((h) => ({
        id: h.id,
        tenantId: h.tenant_id,
        subjectId: h.subject_id,
        reason: h.reason,
        placedAt: h.placed_at,
        releasedAt: null,
      })),
    };
  }
  return { ...base, decision: 'prune', why: 'every tenant in it is past its retention period' };
}

async function prunePartition(
  store: AuditStore,
  decision: RetentionDecision,
  signer: CheckpointSigner | null,
): Promise<PruneRecord> {
  // Runs of consecutive sequence numbers per chain (rows of one chain can straddle months).
  const islands = await store.query<{
    chain_id: string;
    first_seq: string | number;
    last_seq: string | number;
    rows: string | number;
    last_hash: string;
  }>(
    `SELECT chain_id, min(chain_seq) AS first_seq, max(chain_seq) AS last_seq, count(*) AS rows,
       (array_agg(hash ORDER BY chain_seq DESC))[1] AS last_hash
     FROM (SELECT chain_id, chain_seq, hash,
             chain_seq - row_number() OVER (PARTITION BY chain_id ORDER BY chain_seq) AS island
           FROM audit_logs WHERE occurred_at >= $1 AND occurred_at < $2) runs
     GROUP BY chain_id, island ORDER BY chain_id, first_seq`,
    [decision.rangeFrom, decision.rangeTo],
  );
  const chains: PrunedChainRange[] = islands.map((i) => ({
    chainId: i.chain_id,
    firstSeq: Number(i.first_seq),
    lastSeq: Number(i.last_seq),
    lastHash: i.last_hash,
    rows: Number(i.rows),
  }));
  const fields: PruneRecordFields = {
    id: randomUUID(),
    partitionName: decision.partition,
    rangeFrom: decision.rangeFrom.replace('Z', '000Z'),
    rangeTo: decision.rangeTo.replace('Z', '000Z'),
    prunedAt: new Date().toISOString().replace('Z', '000Z'),
    rowsRemoved: chains.reduce((n, c) => n + c.rows, 0),
    chains,
  };
  const statement = pruneStatement(fields, signer);
  const signature = signer ? signer.sign(statement) : null;
  await store.db.transaction(async (tx) => {
    await tx.execute(sql`INSERT INTO audit_prunes (id, partition_name, range_from, range_to,
      pruned_at, rows_removed, chains, algorithm, key_id, signature)
      VALUES (${fields.id}::uuid, ${fields.partitionName}, ${fields.rangeFrom}, ${fields.rangeTo},
        ${fields.prunedAt}, ${fields.rowsRemoved}, ${JSON.stringify(chains)}::jsonb,
        ${statement.algorithm}, ${statement.keyId}, ${signature})`);
    await tx.execute(sql`SELECT aitrail_drop_month(${decision.rangeFrom}::timestamptz)`);
  });
  return { ...fields, algorithm: statement.algorithm, keyId: statement.keyId, signature };
}
