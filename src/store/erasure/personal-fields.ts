import { createHash, randomBytes } from 'node:crypto';
import type { AuditRecord } from '../audit-record.js';
import { canonicalJson } from '../canonical-json.js';
import type { AiAuditMetadata } from '../metadata.js';

/**
 * Metadata keys that describe the action rather than a person, kept in the chained row. Every
 * other key (content, completions, tool params and results, reasons, error messages, approver
 * ids, whatever an app adds through `recordAuditEvent({ metadata })`) is personal and goes to
 * the vault: an unknown key is personal until declared otherwise.
 */
export const STRUCTURAL_METADATA_KEYS: ReadonlySet<string> = new Set([
  'conversationId',
  'taskId',
  'taskName',
  'agentName',
  'toolName',
  'toolCallId',
  'approvalId',
  'approverType',
  'handoffFrom',
  'handoffTo',
  'budgetUsed',
  'budgetLimit',
  'budgetUnit',
  'rateLimit',
  'rateLimitWindowMs',
  'retryAfterMs',
  'model',
  'responseModel',
  'provider',
  'inputTokens',
  'outputTokens',
  'durationMs',
  'spanName',
  'eventName',
  'source',
  'actorSource',
  'instrumentationScope',
  'aitrailPoison',
  'aitrailError',
  // aitrail's own events about the trail (erasure, holds, retention).
  'receiptId',
  'subjectCommitment',
  'rowsErased',
  'plaintextRows',
  'holdId',
  'pruneId',
  'partition',
  'rangeFrom',
  'rangeTo',
  'rowsRemoved',
]);

/** The chained row's metadata key holding the commitment to the personal metadata. */
export const PERSONAL_COMMITMENT_KEY = 'personal';

/** What the read-back shows in place of an erased value. */
export const ERASED = '[ERASED]';

export type PersonalField = 'subject' | 'actor' | 'personal';

/** A record's personal values and the salts of their commitments, as the vault stores them. */
export interface PersonalValues {
  subjectId: string | null;
  actorId: string;
  personal: Record<string, unknown> | null;
  /** Hex salts; null when the values also stand in plain text in the chained row. */
  salts: Partial<Record<PersonalField, string>> | null;
}

/** `c1:` + sha256(salt ‖ field ‖ canonical JSON of the value): reveals nothing without the salt. */
export function commitment(field: PersonalField, salt: string, value: unknown): string {
  const digest = createHash('sha256')
    .update(`${salt}\n${field}\n${canonicalJson(value)}`)
    .digest('hex');
  return `c1:${digest}`;
}

export function isCommitment(value: unknown): value is string {
  return typeof value === 'string' && /^c1:[0-9a-f]{64}$/.test(value);
}

/**
 * Splits a record into what the chain holds (commitments in `actorId`, `subjectId` and
 * `metadata.personal`; structural metadata as is) and what the vault holds (the values and a
 * fresh 128-bit salt per value, so erasing one value leaves the others verifiable).
 */
export function splitPersonalData(record: AuditRecord): {
  chained: AuditRecord;
  personal: PersonalValues;
} {
  const structural: AiAuditMetadata = {};
  let personal: Record<string, unknown> | null = null;
  for (const [key, value] of Object.entries(record.metadata)) {
    if (value === undefined) continue;
    if (STRUCTURAL_METADATA_KEYS.has(key)) structural[key] = value;
    else {
      personal ??= {};
      personal[key] = value;
    }
  }
  const bytes = randomBytes(48).toString('hex');
  const salts: Partial<Record<PersonalField, string>> = { actor: bytes.slice(0, 32) };
  const subjectId = record.subjectId ?? null;
  if (subjectId !== null) salts.subject = bytes.slice(32, 64);
  if (personal !== null) {
    salts.personal = bytes.slice(64, 96);
    structural[PERSONAL_COMMITMENT_KEY] = commitment('personal', salts.personal, personal);
  }
  return {
    chained: {
      ...record,
      actorId: commitment('actor', salts.actor as string, record.actorId),
      subjectId:
        subjectId === null ? null : commitment('subject', salts.subject as string, subjectId),
      metadata: structural,
    },
    personal: { subjectId, actorId: record.actorId, personal, salts },
  };
}

/** The vault row of a record that was stored without a split: its plain values, no salts. */
export function plaintextValues(record: AuditRecord): PersonalValues {
  return {
    subjectId: record.subjectId ?? null,
    actorId: record.actorId,
    personal: null,
    salts: null,
  };
}
