import type { Attributes } from '@opentelemetry/api';

/** A value that JSON, Postgres `jsonb` and `text` all accept. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** How a detected secret or personal value is replaced. */
export type ReplacementMode = 'mask' | 'hash' | 'remove';

/** A value detector: finds secrets or personal data inside any string. */
export interface ValueDetector {
  /** Short name used in replacements, e.g. `email` → `[REDACTED:email]`. */
  name: string;
  /** Global regular expression matching candidates. */
  pattern: RegExp;
  /** Optional check on a candidate (Luhn, mod-97, …); false keeps the text. */
  validate?: (match: string) => boolean;
  mode?: ReplacementMode;
}

export interface RedactionLimits {
  maxDepth: number;
  maxKeys: number;
  maxArrayLength: number;
  maxStringLength: number;
  maxTotalBytes: number;
}

export interface RedactionPolicy {
  /** Extra key names (matched case- and separator-insensitively) or patterns whose whole value is masked. */
  keys?: Array<string | RegExp>;
  /** Keys never masked by key rules (values are still scanned by detectors). */
  allowKeys?: string[];
  /** Extra detectors, run after the built-in ones. */
  detectors?: ValueDetector[];
  /** Built-in detectors to switch off, by name. */
  disable?: string[];
  /** Replacement mode per detector name (`'*'` sets the default). */
  modes?: Record<string, ReplacementMode>;
  /** HMAC key for `hash` mode; default `AITRAIL_REDACTION_KEY`, else a random per-process key. */
  hashKey?: string | Uint8Array;
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
