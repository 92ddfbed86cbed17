import { randomBytes } from 'node:crypto';
import type { AuditRecord } from '../audit-record.js';
import { canonicalJson } from '../canonical-json.js';
import { sha256Hex } from '../digest.js';
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
  return commitmentOfCanonical(field, salt, canonicalJson(value));
}

function commitmentOfCanonical(field: PersonalField, salt: string, canonical: string): string {
  return `c1:${sha256Hex(`${salt}\n${field}\n${canonical}`)}`;
}

/** Where `splitPersonalData` keeps the canonical JSON of the personal metadata it committed to. */
const CANONICAL_PERSONAL = Symbol('canonical personal metadata');

/**
 * The canonical JSON of `values.personal` (null when there is none): the text the commitment
 * covers and the vault stores, computed once when the record was split.
 */
export function canonicalPersonal(values: PersonalValues): string | null {
  // The kept text first: reading `personal` of a split parses it.
  const kept = (values as { [CANONICAL_PERSONAL]?: string })[CANONICAL_PERSONAL];
  if (kept !== undefined) return kept;
  return values.personal === null ? null : canonicalJson(values.personal);
}

/** The getter of a split's `personal`: its canonical text, parsed (one function for all). */
function parsePersonal(this: PersonalValues): Record<string, unknown> {
  return JSON.parse((this as unknown as { [CANONICAL_PERSONAL]: string })[CANONICAL_PERSONAL]);
}

/** `bytes` random bytes as hex: a writer passes its pool, one call per record otherwise. */
export type RandomHex = (bytes: number) => string;

const freshRandomHex: RandomHex = (bytes) => randomBytes(bytes).toString('hex');

export function isCommitment(value: unknown): value is string {
  return typeof value === 'string' && /^c1:[0-9a-f]{64}$/.test(value);
}

/**
 * Splits a record into what the chain holds (commitments in `actorId`, `subjectId` and
 * `metadata.personal`; structural metadata as is) and what the vault holds (the values and a
 * fresh 128-bit salt per value, so erasing one value leaves the others verifiable).
 */
export function splitPersonalData(
  record: AuditRecord,
  randomHex: RandomHex = freshRandomHex,
): {
  chained: AuditRecord;
  personal: PersonalValues;
} {
  const structural: AiAuditMetadata = {};
  let personal: Record<string, unknown> | null = null;
  const metadata = record.metadata;
  for (const key of Object.keys(metadata)) {
    const value = metadata[key];
    if (value === undefined) continue;
    if (STRUCTURAL_METADATA_KEYS.has(key)) structural[key] = value;
    else {
      personal ??= {};
      personal[key] = value;
    }
  }
  const bytes = randomHex(48);
  const salts: Partial<Record<PersonalField, string>> = { actor: bytes.slice(0, 32) };
  const subjectId = record.subjectId ?? null;
  if (subjectId !== null) salts.subject = bytes.slice(32, 64);
  let personalJson: string | null = null;
  if (personal !== null) {
    salts.personal = bytes.slice(64, 96);
    personalJson = canonicalJson(personal);
    structural[PERSONAL_COMMITMENT_KEY] = commitmentOfCanonical(
      'personal',
      salts.personal,
      personalJson,
    );
  }
  const values: PersonalValues = { subjectId, actorId: record.actorId, personal: null, salts };
  if (personalJson !== null) {
    // Not enumerable, and a symbol: journal lines and spread copies (a degraded record) leave it.
    Object.defineProperty(values, CANONICAL_PERSONAL, { value: personalJson });
    // A writer holds thousands of these until they commit: as one string, not an object graph
    // the garbage collector walks each time. Read back (rarely) as the same JSON data.
    Object.defineProperty(values, 'personal', { get: parsePersonal, enumerable: true });
  }
  return {
    chained: {
      ...record,
      actorId: commitment('actor', salts.actor as string, record.actorId),
      subjectId:
        subjectId === null ? null : commitment('subject', salts.subject as string, subjectId),
      metadata: structural,
    },
    personal: values,
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
