import type { SealedAuditRecord } from '../audit-record.js';
import { sha256Hex } from '../digest.js';
import { canonicalPersonal, type PersonalValues } from '../erasure/personal-fields.js';

/**
 * A journal line is `<16 hex checksum> <json>\n`; the checksum is of the JSON text. The metadata
 * travels once, as `metadataJson` (what is hashed and inserted); `metadata` is written empty and
 * rebuilt from it on replay, which halves a line's bytes, its serialization and its checksum. An
 * older version replaying the line still inserts and hashes `metadataJson`. A poison record keeps
 * its metadata: its tree leaf is read from there.
 */
export function journalLine(record: SealedAuditRecord): string {
  if (!slimmable(record)) {
    const json = JSON.stringify(record);
    return `${checksum(json)} ${json}\n`;
  }
  const personal = personalJson(record.personal);
  const json =
    personal === null
      ? JSON.stringify({ ...record, metadata: EMPTY })
      : `${JSON.stringify({ ...record, metadata: EMPTY, personal: undefined }).slice(0, -1)},"personal":${personal}}`;
  return `${checksum(json)} ${json}\n`;
}

/**
 * The vault values as JSON, their personal metadata as the canonical text the split already made
 * (the largest part of a line, not serialized a second time); null when they are not the shape
 * a split makes (then written by `JSON.stringify` with the rest). Replay parses either the same.
 */
function personalJson(values: PersonalValues | undefined): string | null {
  if (typeof values !== 'object' || values === null) return null;
  const { subjectId, actorId, salts } = values;
  if (subjectId === undefined || actorId === undefined || salts === undefined) return null;
  let text: string | null;
  try {
    text = canonicalPersonal(values);
  } catch {
    return null;
  }
  // `personal` itself is read (for a split: parsed) only when no canonical text was kept.
  if (text === null && values.personal !== null) return null;
  return `{"subjectId":${JSON.stringify(subjectId)},"actorId":${JSON.stringify(actorId)},"personal":${text},"salts":${JSON.stringify(salts)}}`;
}

/** A sealed record whose metadata its `metadataJson` carries (anything else is written whole). */
function slimmable(record: SealedAuditRecord): boolean {
  const metadata: unknown = record?.metadata;
  return (
    typeof record?.metadataJson === 'string' &&
    typeof metadata === 'object' &&
    metadata !== null &&
    !Array.isArray(metadata) &&
    !('aitrailPoison' in metadata)
  );
}

const EMPTY = Object.freeze({}) as SealedAuditRecord['metadata'];

export type ParsedLine =
  | { kind: 'record'; record: SealedAuditRecord }
  /** Checksum mismatch: a write torn by a crash. Skipped. */
  | { kind: 'torn' }
  /** Checksum fine, content not a sealed record: quarantined, never replayed. */
  | { kind: 'malformed'; reason: string };

export function parseJournalLine(line: string): ParsedLine {
  const json = line.slice(17);
  if (line[16] !== ' ' || checksum(json) !== line.slice(0, 16)) return { kind: 'torn' };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { kind: 'malformed', reason: 'not JSON' };
  }
  const problem = sealedRecordProblem(value);
  if (problem !== null) return { kind: 'malformed', reason: problem };
  const record = value as SealedAuditRecord;
  if (isEmptyObject(record.metadata) && record.metadataJson !== '{}') {
    try {
      const metadata: unknown = JSON.parse(record.metadataJson);
      if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
        return { kind: 'malformed', reason: 'metadataJson is not an object' };
      record.metadata = metadata as SealedAuditRecord['metadata'];
    } catch {
      return { kind: 'malformed', reason: 'metadataJson is not JSON' };
    }
  }
  return { kind: 'record', record };
}

function isEmptyObject(value: object): boolean {
  for (const _ in value) return false;
  return true;
}

const REQUIRED_TEXT = [
  'eventId',
  'occurredAt',
  'actorType',
  'actorId',
  'action',
  'outcome',
  'traceId',
  'spanId',
  'id',
  'chainId',
  'prevHash',
  'hash',
  'metadataJson',
] as const satisfies ReadonlyArray<keyof SealedAuditRecord>;

const NULLABLE_TEXT = [
  'tenantId',
  'resourceType',
  'resourceId',
  'conversationId',
  'taskId',
  'agentName',
  'toolName',
  'approvalId',
  'serviceName',
] as const satisfies ReadonlyArray<keyof SealedAuditRecord>;

/** Why `value` is not a sealed record the writer can insert, or null when it is one. */
export function sealedRecordProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const v = value as Record<string, unknown>;
  for (const key of REQUIRED_TEXT) if (typeof v[key] !== 'string') return `${key} is not a string`;
  for (const key of NULLABLE_TEXT) {
    if (v[key] !== null && typeof v[key] !== 'string') return `${key} is not a string or null`;
  }
  if (typeof v.chainSeq !== 'number' || !Number.isSafeInteger(v.chainSeq) || v.chainSeq < 1) {
    return 'chainSeq is not a positive integer';
  }
  if (typeof v.metadata !== 'object' || v.metadata === null || Array.isArray(v.metadata)) {
    return 'metadata is not an object';
  }
  return null;
}

function checksum(json: string): string {
  return sha256Hex(json).slice(0, 16);
}
