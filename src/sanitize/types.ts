import type { Attributes } from '@opentelemetry/api';

/** A value that JSON, Postgres `jsonb` and `text` all accept. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * How a detected secret or personal value is replaced:
 * `mask` → `[REDACTED:email]` (default); `hash` → `[email:3f9a1c0b]`, the first 8 hex digits of
 * HMAC-SHA256 with the policy's key (stable per key, so rows can be correlated, not reversed);
 * `remove` → the empty string. Key rules always mask: `[REDACTED:<rule>]`.
 */
export type ReplacementMode = 'mask' | 'hash' | 'remove';

/**
 * A value detector: finds secrets or personal data inside any string. A detector named like a
 * built-in replaces it; others run after the built-ins, on text the built-ins already redacted.
 */
export interface ValueDetector {
  /** Short name used in replacements, e.g. `email` → `[REDACTED:email]` (letters, digits, `_.-`). */
  name: string;
  /**
   * Global regular expression matching candidates. A named group `keep` at the start of the
   * match is kept verbatim and only the rest is replaced (`/(?<keep>ref=)\w+/g`).
   */
  pattern: RegExp;
  /** Optional check on a candidate (Luhn, mod-97, …); false keeps the text. A throw fails closed. */
  validate?: (match: string) => boolean;
  /** Replacement mode of this detector unless `policy.modes` names it; default `policy.modes['*']`. */
  mode?: ReplacementMode;
}

/** Size limits of `redactValue`; every cut leaves a marker saying what was cut. */
export interface RedactionLimits {
  /** Nesting depth (default 8, at most 1000); deeper containers become `"[MaxDepth]"`. */
  maxDepth: number;
  /** Keys per object or Map (default 200); the rest become `"[truncated]": "N more keys"`. */
  maxKeys: number;
  /** Items per array or Set (default 200); the rest become `"[truncated N more items]"`. */
  maxArrayLength: number;
  /** UTF-16 units per string, marker included (default 8192): `prefix…[truncated N chars]`. */
  maxStringLength: number;
  /** UTF-8 bytes of the serialized value (default 65536), plus a few bytes of markers per level. */
  maxTotalBytes: number;
}

export interface RedactionPolicy {
  /**
   * Extra sensitive keys whose whole value is masked. A string matches the whole key or its
   * trailing words, case- and separator-insensitively (`customer_note` matches
   * `billing.customerNote`) and names the rule; a RegExp tests the raw key (rule `custom_key`).
   */
  keys?: Array<string | RegExp>;
  /** Keys never masked by key rules, compared normalized (values are still scanned by detectors). */
  allowKeys?: string[];
  /** Extra detectors, run after the built-in ones. */
  detectors?: ValueDetector[];
  /** Built-in detectors to switch off, by name. */
  disable?: string[];
  /** Replacement mode per detector name (`'*'` sets the default). */
  modes?: Record<string, ReplacementMode>;
  /** HMAC key for `hash` mode; default `AITRAIL_REDACTION_KEY`, else a random per-process key. */
  hashKey?: string | Uint8Array;
  /** Overrides of the default limits (see `RedactionLimits`). */
  limits?: Partial<RedactionLimits>;
}

export interface RedactionStats {
  /** Values replaced by `[REDACTION_FAILED]` because redacting them threw. */
  failures: number;
}

export interface Redactor {
  /** Redacts secrets and personal data inside free text. Never throws. */
  redactText(text: string): string;
  /**
   * Turns any value (cycles, BigInt, Buffers, Maps, Errors, Proxies, …) into a JsonValue with
   * key rules, value detectors and size limits applied. Never throws.
   */
  redactValue(value: unknown): JsonValue;
  /** Returns a redacted copy of an OTel attribute map. Never throws. */
  redactAttributes(attributes: Attributes): Attributes;
  readonly stats: RedactionStats;
}
