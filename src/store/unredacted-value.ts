import type { JsonValue, Redactor } from '../sanitize/types.js';
import type { AuditRecord } from './audit-record.js';

/**
 * A captured value (tool params, chat content) placed in a record not yet redacted, so that a
 * writer on a thread of its own redacts it there, with the same policy, before it seals or
 * journals the record. Every other path redacts it on this thread (`redactedHere`) before the
 * record goes anywhere: the raw value never reaches a journal, a row or an export.
 */
export class UnredactedValue {
  constructor(
    /** Plain data, a copy the caller cannot change any more. */
    readonly raw: unknown,
    /** The redactor the value must go through (the policy in force when it was captured). */
    readonly redactor: Redactor,
    private readonly redactHere: () => JsonValue,
  ) {}

  /** Redacted on this thread (once; shared with the exporter's copy of the span). */
  redactedHere(): JsonValue {
    return this.redactHere();
  }

  /** Whatever serializes it without knowing it gets the redacted value. */
  toJSON(): JsonValue {
    return this.redactHere();
  }
}

/** The metadata fields that may hold an `UnredactedValue`. */
export const UNREDACTED_FIELDS = ['toolParams', 'content', 'completion'] as const;

/** `record` with every `UnredactedValue` redacted on this thread (the record itself if none). */
export function redactedHere(record: AuditRecord): AuditRecord {
  const metadata = record.metadata as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const field of UNREDACTED_FIELDS) {
    const value = metadata[field];
    if (!(value instanceof UnredactedValue)) continue;
    copy ??= { ...metadata };
    const redacted = value.redactedHere();
    if (redacted === null) delete copy[field];
    else copy[field] = redacted;
  }
  return copy === undefined ? record : { ...record, metadata: copy as AuditRecord['metadata'] };
}
