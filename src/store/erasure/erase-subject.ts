import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { AuditActor } from '../../actions.js';
import {
  checkActor,
  checkOptionalString,
  checkStrictKeys,
  checkString,
} from '../../instrument/options.js';
import { TRAIL_ACTIONS, writeTrailEvent } from '../audit-events.js';
import type { AuditStore } from '../audit-store.js';
import { canonicalJson } from '../canonical-json.js';
import { holdsCoveringSubject, legalHoldError } from '../retention/legal-holds.js';
import type { CheckpointSigner } from '../writer/checkpoint-signer.js';

export interface EraseSubjectOptions {
  /** The data subject whose personal values are erased. */
  subjectId: string;
  /** Only this tenant's rows; default every tenant. */
  tenantId?: string;
  /** Why (e.g. "GDPR Art. 17 request 2026-118"); stored in the vault, like any reason. */
  reason: string;
  /** Who erases: the actor of the `audit.subject_erased` event. Default aitrail maintenance. */
  actor?: AuditActor;
  /** Signs the receipt and the checkpoint closing the event's chain. */
  signer?: CheckpointSigner | null;
}

/** What an erasure did. Holds no personal data: the subject only as a salted hash. */
export interface ErasureReceipt {
  receiptId: string;
  erasedAt: string;
  tenantId: string | null;
  /**
   * sha256 over `subjectSalt` and the tenant and subject ids. Only whoever holds the salt (the
   * requester, from this receipt) can show the receipt is about them; the salt is not stored.
   */
  subjectCommitment: string;
  subjectSalt: string;
  /** Rows whose personal values were removed. */
  rowsErased: number;
  /** Of those, rows from before migration 0004 that also hold the values in the chained row. */
  plaintextRows: number;
  /** The `audit.subject_erased` row in the trail. */
  eventId: string;
  algorithm: CheckpointSigner['algorithm'] | 'none';
  keyId: string | null;
  /** Signature over `receiptDigest(receipt)`, checkpoint-style (see `receiptStatement`). */
  signature: string | null;
}

type SignedFields = Pick<
  ErasureReceipt,
  'receiptId' | 'erasedAt' | 'tenantId' | 'subjectCommitment' | 'rowsErased' | 'plaintextRows'
>;

/** The sha256 of the receipt's signed fields in canonical JSON. */
export function receiptDigest(receipt: SignedFields): string {
  return createHash('sha256')
    .update(
      canonicalJson({
        erased_at: receipt.erasedAt,
        plaintext_rows: receipt.plaintextRows,
        receipt_id: receipt.receiptId,
        rows_erased: receipt.rowsErased,
        subject_commitment: receipt.subjectCommitment,
        tenant_id: receipt.tenantId,
      }),
    )
    .digest('hex');
}

/** The receipt as the statement the checkpoint signer signs (and verifies). */
export function receiptStatement(receipt: SignedFields, signer: CheckpointSigner | null) {
  return {
    chainId: `erasure:${receipt.receiptId}`,
    // Signed in the checkpoint signer's legacy statement shape: chain, count and digest.
    kind: 'legacy' as const,
    rootHash: null,
    prevCheckpointHash: null,
    hashVersion: 1 as const,
    chainSeq: receipt.rowsErased,
    headHash: receiptDigest(receipt),
    createdAt: receipt.erasedAt,
    serviceName: null,
    algorithm: signer ? signer.algorithm : ('none' as const),
    keyId: signer ? signer.keyId : null,
    final: true,
  };
}

/**
 * Erases every personal value of a data subject: in the vault, wherever they are the subject
 * or the actor (identifiers, content, tool params and results, reasons, free text). The chained
 * rows hold only commitments, so no hash changes and verify still passes. Refused while a legal
 * hold covers the subject or its tenant. Records a signed receipt and an `audit.subject_erased`
 * event (no personal data in either).
 */
export async function eraseSubject(
  store: AuditStore,
  options: EraseSubjectOptions,
): Promise<ErasureReceipt> {
  checkStrictKeys('eraseSubject', options, ['subjectId', 'tenantId', 'reason', 'actor', 'signer']);
  checkString('eraseSubject', 'subjectId', options.subjectId);
  checkOptionalString('eraseSubject', 'tenantId', options.tenantId);
  checkString('eraseSubject', 'reason', options.reason);
  checkActor('eraseSubject', 'actor', options.actor, false);
  const tenantId = options.tenantId ?? null;
  const holds = await holdsCoveringSubject(store, options.subjectId, tenantId);
  if (holds.length > 0) throw legalHoldError(`erasing subject ${options.subjectId}`, holds);

  const signer = options.signer ?? null;
  const receiptId = randomUUID();
  const erasedAt = new Date().toISOString();
  const subjectSalt = randomBytes(16).toString('hex');
  const subjectCommitment = createHash('sha256')
    .update(`${subjectSalt}\n${canonicalJson({ subject: options.subjectId, tenant: tenantId })}`)
    .digest('hex');

  const signed = await store.db.transaction(async (tx) => {
    const result = await tx.execute(
      sql`SELECT rows_erased, plaintext_rows FROM aitrail_erase_subject(${tenantId}, ${options.subjectId}, ${receiptId}::uuid)`,
    );
    const [counts] = rowsOf<{ rows_erased: string | number; plaintext_rows: string | number }>(
      result,
    );
    const fields: SignedFields = {
      receiptId,
      erasedAt,
      tenantId,
      subjectCommitment,
      rowsErased: Number(counts?.rows_erased ?? 0),
      plaintextRows: Number(counts?.plaintext_rows ?? 0),
    };
    const statement = receiptStatement(fields, signer);
    const signature = signer ? signer.sign(statement) : null;
    await tx.execute(sql`INSERT INTO audit_erasures (receipt_id, erased_at, tenant_id,
      subject_commitment, rows_erased, plaintext_rows, algorithm, key_id, signature)
      VALUES (${receiptId}::uuid, ${erasedAt}, ${tenantId}, ${subjectCommitment},
        ${fields.rowsErased}, ${fields.plaintextRows}, ${statement.algorithm}, ${statement.keyId},
        ${signature})`);
    return { ...fields, algorithm: statement.algorithm, keyId: statement.keyId, signature };
  });

  const { eventId } = await writeTrailEvent(store, {
    action: TRAIL_ACTIONS.SUBJECT_ERASED,
    actor: options.actor,
    tenantId,
    resourceType: 'erasure_receipt',
    resourceId: receiptId,
    metadata: {
      receiptId,
      subjectCommitment,
      rowsErased: signed.rowsErased,
      plaintextRows: signed.plaintextRows,
      reason: options.reason,
    },
    signer,
  });
  return { ...signed, subjectSalt, eventId };
}

/** drizzle's `execute` returns rows (postgres.js) or `{ rows }` (PGlite). */
function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : ((result as { rows: T[] }).rows ?? []);
}
