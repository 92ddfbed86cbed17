import type { Attributes } from '@opentelemetry/api';
import type { JsonValue, Redactor } from '../sanitize/types.js';
import { UnredactedValue } from '../store/unredacted-value.js';
import { snapshotPlainData } from './plain-snapshot.js';
import { SpanSlot } from './span-slot.js';

/**
 * A value a helper captured (tool params, a tool result, chat content), redacted the first time
 * a row or an exported span needs it rather than on the caller's turn. Plain data is held as a
 * copy, so what the caller does to its own object afterwards changes nothing; anything else is
 * redacted at once. The raw copy is dropped as soon as it has been redacted.
 */
export class HeldValue {
  private raw: unknown;
  private sanitized: JsonValue | undefined;
  private redacted: boolean;

  private constructor(
    readonly redactor: Redactor,
    raw: unknown,
    sanitized: JsonValue | undefined,
  ) {
    this.raw = raw;
    this.sanitized = sanitized;
    this.redacted = sanitized !== undefined;
  }

  /** A value already sanitized with `redactor`. */
  static alreadySanitized(redactor: Redactor, value: JsonValue): HeldValue {
    return new HeldValue(redactor, undefined, value);
  }

  static capture(redactor: Redactor, value: unknown): HeldValue {
    const snapshot = snapshotPlainData(value);
    return snapshot === undefined
      ? new HeldValue(redactor, undefined, redactor.redactValue(value))
      : new HeldValue(redactor, snapshot.value, undefined);
  }

  /** The plain-data copy while it is not redacted yet, else undefined. */
  unredacted(): { raw: unknown } | undefined {
    return this.redacted ? undefined : { raw: this.raw };
  }

  /** Redacted with `redactor`, once. */
  value(): JsonValue {
    if (!this.redacted) {
      const raw = this.raw;
      this.raw = undefined;
      this.sanitized = this.redactor.redactValue(raw);
      this.redacted = true;
    }
    return this.sanitized as JsonValue;
  }
}

/** A held value shown under one attribute, reshaped by `wrap` (computed once). */
class Entry {
  private wrapped: JsonValue | undefined;

  constructor(
    readonly attribute: string,
    private readonly held: HeldValue,
    /** Set by the helper on the span itself too (an attribute), or kept only here. */
    readonly onSpan: boolean,
    private readonly wrap: ((value: JsonValue) => JsonValue) | undefined,
  ) {}

  get redactor(): Redactor {
    return this.held.redactor;
  }

  /** The raw copy while nothing redacted it yet, for a value kept as it was captured. */
  unredacted(): { raw: unknown } | undefined {
    return this.onSpan || this.wrap !== undefined ? undefined : this.held.unredacted();
  }

  value(): JsonValue {
    if (this.wrap === undefined) return this.held.value();
    this.wrapped ??= this.wrap(this.held.value());
    return this.wrapped;
  }
}

/** Attributes to add to an exported copy of a span, by whether `redactor` already applied. */
export interface HeldAttributes {
  /** Sanitized by the exporter's own redactor: added as they are. */
  sanitized: Attributes;
  /** Sanitized by another policy: the exporter redacts them like any attribute. */
  foreign: Attributes;
}

/**
 * What a pipeline's helpers captured, per span: JSON attributes they set already sanitized
 * (`remember`), and values kept beside the span instead of on it (`hold`: redacted when the
 * processor maps the span or the pipeline's exporter copies it, whichever comes first, and shared
 * by both). The processor reuses a value only when its redactor produced it, so nothing skips the
 * policy in force. One per pipeline, kept in a slot of its own on each span.
 */
export class SanitizedValues {
  private readonly slot = new SpanSlot<Entry[]>('aitrail.sanitized_values');

  /**
   * `active`: the pipeline helpers capture with now. A span this pipeline's helpers did not see
   * (the pipeline is not the registered one) is looked up there, so its processor and exporter
   * still find the values, through their own redactor.
   */
  constructor(private readonly active?: () => SanitizedValues) {}

  remember(span: object, attribute: string, redactor: Redactor, value: JsonValue): void {
    this.add(
      span,
      new Entry(attribute, HeldValue.alreadySanitized(redactor, value), true, undefined),
    );
  }

  /** Keeps `held` for `attribute` of `span`; the span itself never carries it. */
  hold(
    span: object,
    attribute: string,
    held: HeldValue,
    wrap?: (value: JsonValue) => JsonValue,
  ): void {
    this.add(span, new Entry(attribute, held, false, wrap));
  }

  /**
   * The sanitized value behind `attribute`, as `redactor` would have it. Undefined when there is
   * none, or when it is on the span and another redactor made it (the caller reads the attribute).
   */
  get(span: object, attribute: string, redactor: Redactor): JsonValue | undefined {
    const known = this.entriesOf(span)?.find((entry) => entry.attribute === attribute);
    if (known === undefined) return undefined;
    if (known.redactor === redactor) return known.value();
    // What a processor with its own policy read from the attribute before values were held.
    return known.onSpan ? undefined : redactor.redactValue(known.value());
  }

  /**
   * The held value behind `attribute` still unredacted, when `redactor` is the one it must go
   * through: for a writer on a thread of its own to redact there (see `UnredactedValue`).
   * Undefined when it was redacted already (an exporter got to it first), or is not held.
   */
  unredacted(span: object, attribute: string, redactor: Redactor): UnredactedValue | undefined {
    const known = this.entriesOf(span)?.find((entry) => entry.attribute === attribute);
    if (known === undefined || known.redactor !== redactor) return undefined;
    const pending = known.unredacted();
    return pending && new UnredactedValue(pending.raw, redactor, () => known.value());
  }

  /** Held values of `span` as JSON attributes for an exported copy; the span's own attributes win. */
  heldAttributes(span: object, own: Attributes, redactor: Redactor): HeldAttributes | undefined {
    const entries = this.entriesOf(span);
    if (entries === undefined) return undefined;
    let held: HeldAttributes | undefined;
    for (const entry of entries) {
      if (entry.onSpan || own[entry.attribute] !== undefined) continue;
      held ??= { sanitized: {}, foreign: {} };
      const target = entry.redactor === redactor ? held.sanitized : held.foreign;
      target[entry.attribute] = JSON.stringify(entry.value());
    }
    return held;
  }

  private entriesOf(span: object): Entry[] | undefined {
    const own = this.slot.get(span);
    if (own !== undefined || this.active === undefined) return own;
    const active = this.active();
    return active === this ? undefined : active.slot.get(span);
  }

  /** A later value for the same attribute replaces the earlier one. */
  private add(span: object, entry: Entry): void {
    const entries = this.slot.get(span);
    if (entries === undefined) {
      this.slot.set(span, [entry]);
      return;
    }
    const index = entries.findIndex((known) => known.attribute === entry.attribute);
    if (index === -1) entries.push(entry);
    else entries[index] = entry;
  }
}
