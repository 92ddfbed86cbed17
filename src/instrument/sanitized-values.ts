import type { JsonValue, Redactor } from '../sanitize/types.js';

interface Sanitized {
  redactor: Redactor;
  value: JsonValue;
}

/**
 * The already-sanitized value behind a JSON attribute a helper set (tool params, chat content),
 * per span. The processor reuses it instead of parsing and redacting the same JSON again — only
 * when its own redactor is the one that produced it, so nothing skips the policy in force.
 */
const bySpan = new WeakMap<object, Map<string, Sanitized>>();

export function rememberSanitized(
  span: object,
  attribute: string,
  redactor: Redactor,
  value: JsonValue,
): void {
  let values = bySpan.get(span);
  if (values === undefined) {
    values = new Map();
    bySpan.set(span, values);
  }
  values.set(attribute, { redactor, value });
}

export function sanitizedByHelper(
  span: object,
  attribute: string,
  redactor: Redactor,
): JsonValue | undefined {
  const known = bySpan.get(span)?.get(attribute);
  return known !== undefined && known.redactor === redactor ? known.value : undefined;
}
