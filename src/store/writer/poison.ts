import { createHash } from 'node:crypto';
import type { SealedAuditRecord } from '../audit-record.js';
import { canonicalJson } from '../canonical-json.js';
import { hashedFieldsOf } from '../hash-chain.js';

/** Longest text kept in a column of a degraded row. */
const MAX_DEGRADED_TEXT = 256;

/** Metadata of a row stored in degraded form; `original` preserves the hashed fields exactly. */
export interface PoisonMetadata {
  aitrailPoison: {
    reason: string;
    /** base64 of the canonical JSON of the original hashed fields: `verify` checks the hash over it. */
    original: string;
  };
}

/** Text of at most `MAX_DEGRADED_TEXT` characters; a value that is not text at all becomes text. */
export function shorten(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') value = safeText(value);
  if ((value as string).length <= MAX_DEGRADED_TEXT) return value as string;
  const text = value as string;
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return `${text.slice(0, MAX_DEGRADED_TEXT)}…[sha256:${digest}]`;
}

function safeText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** The original time if Postgres can hold it, else now (the original stays in `original`). */
export function storableTimestamp(value: unknown): string {
  if (typeof value !== 'string') return new Date().toISOString();
  const time = Date.parse(value);
  const year = Number.isNaN(time) ? 0 : new Date(time).getUTCFullYear();
  return year >= 1 && year <= 9999 && /^\d{4}-\d{2}-\d{2}T/.test(value)
    ? value
    : new Date().toISOString();
}

/**
 * A record the database rejects for good becomes a row it accepts: text columns shortened,
 * metadata replaced by the reason and the original fields (base64, so nothing in them can be
 * rejected again). Chain position and hash stay as sealed, so the chain still verifies.
 */
export function degradePoisonRecord(record: SealedAuditRecord, reason: string): SealedAuditRecord {
  let canonical: string;
  try {
    canonical = canonicalJson(hashedFieldsOf(record));
  } catch (error) {
    // Never throws: a record this odd is still stored, with what can be said about it.
    canonical = safeText({ unserializable: String(error) });
  }
  const original = Buffer.from(canonical, 'utf8').toString('base64');
  const metadata: PoisonMetadata = { aitrailPoison: { reason: reason.slice(0, 500), original } };
  return {
    ...record,
    eventId: shorten(record.eventId) as string,
    tenantId: shorten(record.tenantId),
    actorType: shorten(record.actorType) as string,
    actorId: shorten(record.actorId) as string,
    subjectId: shorten(record.subjectId ?? null),
    action: shorten(record.action) as string,
    outcome: shorten(record.outcome) as string,
    resourceType: shorten(record.resourceType),
    resourceId: shorten(record.resourceId),
    conversationId: shorten(record.conversationId),
    taskId: shorten(record.taskId),
    agentName: shorten(record.agentName),
    toolName: shorten(record.toolName),
    approvalId: shorten(record.approvalId),
    traceId: shorten(record.traceId) as string,
    spanId: shorten(record.spanId) as string,
    serviceName: shorten(record.serviceName),
    occurredAt: storableTimestamp(record.occurredAt),
    metadata: metadata as unknown as SealedAuditRecord['metadata'],
    metadataJson: canonicalJson(metadata),
    ...(record.personal && {
      personal: {
        ...record.personal,
        subjectId: shorten(record.personal.subjectId),
        actorId: shorten(record.personal.actorId) as string,
        personal:
          record.personal.personal === null
            ? null
            : {
                aitrailPoison: Buffer.from(canonicalJson(record.personal.personal)).toString(
                  'base64',
                ),
              },
      },
    }),
  };
}
