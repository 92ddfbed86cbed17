import { randomUUID } from 'node:crypto';
import type { AuditActor } from '../../actions.js';
import { AitrailError } from '../../errors.js';
import {
  checkActor,
  checkOptionalString,
  checkStrictKeys,
  checkString,
} from '../../instrument/options.js';
import { TRAIL_ACTIONS, writeTrailEvent } from '../audit-events.js';
import type { AuditStore } from '../audit-store.js';
import type { CheckpointSigner } from '../writer/checkpoint-signer.js';

/** A legal hold: while active, nothing it covers may be erased or pruned. */
export interface LegalHold {
  id: string;
  /** The tenant held, or the tenant of the held subject; null: the subject in every tenant. */
  tenantId: string | null;
  /** The subject held; null: the whole tenant. */
  subjectId: string | null;
  reason: string;
  placedAt: string;
  releasedAt: string | null;
}

export interface PlaceHoldOptions {
  tenantId?: string;
  subjectId?: string;
  reason: string;
  actor?: AuditActor;
  signer?: CheckpointSigner | null;
}

export interface ReleaseHoldOptions {
  holdId: string;
  reason: string;
  actor?: AuditActor;
  signer?: CheckpointSigner | null;
}

interface HoldRow {
  id: string;
  tenant_id: string | null;
  subject_id: string | null;
  reason: string;
  placed_at: string;
  released_at: string | null;
}

const HOLD_COLUMNS = `id::text, tenant_id, subject_id, reason,
  to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS placed_at,
  to_char(released_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS released_at`;

function toHold(row: HoldRow): LegalHold {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    subjectId: row.subject_id,
    reason: row.reason,
    placedAt: row.placed_at,
    releasedAt: row.released_at,
  };
}

/** Places a hold on a tenant, a subject, or a subject within a tenant; an audit event records it. */
export async function placeLegalHold(
  store: AuditStore,
  options: PlaceHoldOptions,
): Promise<LegalHold> {
  checkStrictKeys('placeLegalHold', options, [
    'tenantId',
    'subjectId',
    'reason',
    'actor',
    'signer',
  ]);
  checkOptionalString('placeLegalHold', 'tenantId', options.tenantId);
  checkOptionalString('placeLegalHold', 'subjectId', options.subjectId);
  checkString('placeLegalHold', 'reason', options.reason);
  checkActor('placeLegalHold', 'actor', options.actor, false);
  if (options.tenantId === undefined && options.subjectId === undefined) {
    throw new TypeError('placeLegalHold: give tenantId, subjectId, or both');
  }
  const [row] = await store.query<HoldRow>(
    `INSERT INTO audit_legal_holds (id, tenant_id, subject_id, reason) VALUES ($1, $2, $3, $4)
     RETURNING ${HOLD_COLUMNS}`,
    [randomUUID(), options.tenantId ?? null, options.subjectId ?? null, options.reason],
  );
  const hold = toHold(row as HoldRow);
  await writeTrailEvent(store, {
    action: TRAIL_ACTIONS.LEGAL_HOLD_PLACED,
    actor: options.actor,
    tenantId: hold.tenantId,
    subjectId: hold.subjectId,
    resourceType: 'legal_hold',
    resourceId: hold.id,
    metadata: { holdId: hold.id, reason: hold.reason },
    signer: options.signer,
  });
  return hold;
}

/** Releases an active hold; an audit event records it. */
export async function releaseLegalHold(
  store: AuditStore,
  options: ReleaseHoldOptions,
): Promise<LegalHold> {
  checkStrictKeys('releaseLegalHold', options, ['holdId', 'reason', 'actor', 'signer']);
  checkString('releaseLegalHold', 'holdId', options.holdId);
  checkString('releaseLegalHold', 'reason', options.reason);
  checkActor('releaseLegalHold', 'actor', options.actor, false);
  if (!/^[0-9a-f-]{36}$/i.test(options.holdId)) {
    throw new TypeError(`releaseLegalHold: holdId must be a hold's UUID, got "${options.holdId}"`);
  }
  const [row] = await store.query<HoldRow>(
    `UPDATE audit_legal_holds SET released_at = now() WHERE id = $1 AND released_at IS NULL
     RETURNING ${HOLD_COLUMNS}`,
    [options.holdId],
  );
  if (!row) {
    throw new AitrailError('HOLD_NOT_FOUND', `no active legal hold ${options.holdId}`);
  }
  const hold = toHold(row);
  await writeTrailEvent(store, {
    action: TRAIL_ACTIONS.LEGAL_HOLD_RELEASED,
    actor: options.actor,
    tenantId: hold.tenantId,
    subjectId: hold.subjectId,
    resourceType: 'legal_hold',
    resourceId: hold.id,
    metadata: { holdId: hold.id, reason: options.reason },
    signer: options.signer,
  });
  return hold;
}

export async function listLegalHolds(
  store: AuditStore,
  options: { includeReleased?: boolean } = {},
): Promise<LegalHold[]> {
  checkStrictKeys('listLegalHolds', options, ['includeReleased']);
  const rows = await store.query<HoldRow>(
    `SELECT ${HOLD_COLUMNS} FROM audit_legal_holds
     ${options.includeReleased ? '' : 'WHERE released_at IS NULL'} ORDER BY placed_at`,
  );
  return rows.map(toHold);
}

/**
 * Active holds that cover erasing `subjectId` (in `tenantId`, or anywhere when null): a hold
 * on the subject (in that tenant or in every tenant), or on a tenant the erasure reaches.
 */
export async function holdsCoveringSubject(
  store: AuditStore,
  subjectId: string,
  tenantId: string | null,
): Promise<LegalHold[]> {
  const rows = await store.query<HoldRow>(
    `SELECT ${HOLD_COLUMNS} FROM audit_legal_holds h WHERE released_at IS NULL AND (
       (h.subject_id = $1 AND ($2::text IS NULL OR h.tenant_id IS NULL OR h.tenant_id = $2))
       OR (h.subject_id IS NULL AND (h.tenant_id = $2 OR ($2::text IS NULL AND EXISTS (
         SELECT 1 FROM audit_personal_data v
         WHERE (v.subject_id = $1 OR v.actor_id = $1) AND v.tenant_id = h.tenant_id))))
     ) ORDER BY placed_at`,
    [subjectId, tenantId],
  );
  return rows.map(toHold);
}

/** The error erasure and retention raise when a hold is in the way. */
export function legalHoldError(what: string, holds: readonly LegalHold[]): AitrailError {
  const list = holds
    .map(
      (h) =>
        `${h.id} (${h.subjectId ? `subject ${h.subjectId}` : `tenant ${h.tenantId}`}: ${h.reason})`,
    )
    .join('; ');
  return new AitrailError(
    'LEGAL_HOLD',
    `${what} is blocked by ${holds.length} active legal hold(s): ${list}. Release them first (aitrail hold remove ID --reason TEXT).`,
  );
}
