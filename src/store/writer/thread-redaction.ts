import { createRedactor, portablePolicyOf } from '../../sanitize/redactor.js';
import { REDACTION_FAILED } from '../../sanitize/replacement.js';
import type { RedactionPolicy, Redactor } from '../../sanitize/types.js';
import type { AuditRecord } from '../audit-record.js';
import { UNREDACTED_FIELDS, UnredactedValue } from '../unredacted-value.js';

/** A field of a record the writer thread redacts before anything else sees the record. */
interface FieldToRedact {
  field: (typeof UNREDACTED_FIELDS)[number];
  /** The redactor's number (see `ThreadRedactors`). */
  redactor: number;
  value: unknown;
}

/** What crosses to the writer thread for a record that holds values still to redact. */
export interface RecordToRedact {
  redact: FieldToRedact[];
  record: AuditRecord;
}

/**
 * The calling thread's side: numbers each redactor whose policy can cross (`portablePolicyOf`)
 * and has `announce` send that policy to the thread once, before the first record that needs it.
 * A redactor whose policy cannot cross (a custom detector's `validate` function, a hand-made
 * `Redactor`) redacts here, on the calling thread, as before.
 */
export class ThreadRedactors {
  private readonly numbers = new Map<Redactor, number | null>();
  private readonly byNumber = new Map<number, Redactor>();

  constructor(private readonly announce: (id: number, policy: RedactionPolicy) => void) {}

  private numberOf(redactor: Redactor): number | null {
    let id = this.numbers.get(redactor);
    if (id === undefined) {
      const policy = portablePolicyOf(redactor);
      id = policy === undefined ? null : this.numbers.size + 1;
      this.numbers.set(redactor, id);
      if (id !== null && policy !== undefined) {
        this.byNumber.set(id, redactor);
        this.announce(id, policy);
      }
    }
    return id;
  }

  /**
   * The record as it crosses to the thread (as JSON): an `UnredactedValue` the thread can redact
   * travels raw beside it (`{redact, record}`), any other is redacted here first; so is every
   * one when `here` (the thread is behind: this thread has the time). The result is the same.
   */
  prepare(record: AuditRecord, here = false): AuditRecord | RecordToRedact {
    const metadata = record.metadata as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    let redact: FieldToRedact[] | undefined;
    for (const field of UNREDACTED_FIELDS) {
      const value = metadata[field];
      if (!(value instanceof UnredactedValue)) continue;
      copy ??= { ...metadata };
      const id = !here && jsonExact(value.raw, 0) ? this.numberOf(value.redactor) : null;
      if (id !== null) {
        delete copy[field];
        redact ??= [];
        redact.push({ field, redactor: id, value: value.raw });
        continue;
      }
      const redacted = value.redactedHere();
      if (redacted === null) delete copy[field];
      else copy[field] = redacted;
    }
    const plain =
      copy === undefined ? record : { ...record, metadata: copy as AuditRecord['metadata'] };
    return redact === undefined ? plain : { redact, record: plain };
  }

  /** A record the thread never took, decoded and redacted here (the thread died). */
  decode(entry: unknown): AuditRecord {
    return applyRedactions(entry, (id) => this.byNumber.get(id));
  }

  /** Values the thread failed to redact count where the caller looks: the redactor's stats. */
  creditFailures(failures: ReadonlyArray<[number, number]>): void {
    for (const [id, count] of failures) {
      const redactor = this.byNumber.get(id);
      if (redactor) redactor.stats.failures += count;
    }
  }
}

/**
 * A record decoded from what `ThreadRedactors.encode` sent, its raw fields redacted with the
 * redactor of the number they name. A number without a redactor (never expected) stores the
 * failure marker, never the raw value.
 */
export function applyRedactions(
  entry: unknown,
  redactorOf: (id: number) => Redactor | undefined,
): AuditRecord {
  const { redact } = entry as Partial<RecordToRedact>;
  if (redact === undefined) return entry as AuditRecord;
  const { record } = entry as RecordToRedact;
  for (const { field, redactor: id, value } of redact) {
    const redactor = redactorOf(id);
    const redacted = redactor === undefined ? REDACTION_FAILED : redactor.redactValue(value);
    if (redacted !== null) record.metadata[field] = redacted;
  }
  return record;
}

/**
 * The writer thread's redactors, compiled from the policies the calling thread announced. Their
 * failures are the calling thread's redactors' failures: `takeFailures` reports them back.
 */
export class CompiledRedactors {
  private readonly redactors = new Map<number, Redactor>();
  /** Failures per redactor number already reported. */
  private readonly reported = new Map<number, number>();
  /** Values whose redactor could not be compiled here, per number, not yet reported. */
  private readonly uncompiled = new Map<number, number>();

  /** Compiles a policy; a policy that fails to compile is returned as the reason, never thrown. */
  add(id: number, policy: RedactionPolicy): string | null {
    try {
      this.redactors.set(id, createRedactor(policy));
      return null;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  apply(entry: unknown): AuditRecord {
    return applyRedactions(entry, (id) => {
      const redactor = this.redactors.get(id);
      // Stored as the failure marker, and counted as a failure of that redactor.
      if (redactor === undefined) this.uncompiled.set(id, (this.uncompiled.get(id) ?? 0) + 1);
      return redactor;
    });
  }

  /** Failures since the last call, as [redactor number, count]; empty when there were none. */
  takeFailures(): Array<[number, number]> {
    const failures: Array<[number, number]> = [];
    for (const [id, redactor] of this.redactors) {
      const count = redactor.stats.failures - (this.reported.get(id) ?? 0);
      if (count > 0) failures.push([id, count]);
      this.reported.set(id, redactor.stats.failures);
    }
    for (const [id, count] of this.uncompiled) failures.push([id, count]);
    this.uncompiled.clear();
    return failures;
  }
}

/** Containers deep at most; a raw snapshot is at most 32 deep, so this is never the limit. */
const MAX_DEPTH = 64;

/**
 * Does JSON carry `value` exactly, so the thread redacts what this thread would have? Dates
 * (JSON makes them strings), `undefined`, holes, non-finite numbers and -0 do not cross raw.
 */
function jsonExact(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !jsonExact(value[i], depth + 1)) return false;
        }
        return true;
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false;
      for (const key in value) {
        if (!Object.hasOwn(value, key)) return false;
        if (!jsonExact((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
