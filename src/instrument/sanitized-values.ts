import type { JsonValue, Redactor } from '../sanitize/types.js';

interface Sanitized {
  redactor: Redactor;
  value: JsonValue;
}

/**
 * The already-sanitized value behind a JSON attribute a helper set (tool params, chat content),
 * per span. The processor reuses it instead of parsing and redacting the same JSON again — only
 * when it belongs to the processor's own pipeline and its redactor produced it, so nothing skips
 * the policy in force. One per pipeline.
 */
export class SanitizedValues {
  private readonly bySpan = new WeakMap<object, Map<string, Sanitized>>();

  remember(span: object, attribute: string, redactor: Redactor, value: JsonValue): void {
    let values = this.bySpan.get(span);
    if (values === undefined) {
      values = new Map();
      this.bySpan.set(span, values);
    }
    values.set(attribute, { redactor, value });
  }

  get(span: object, attribute: string, redactor: Redactor): JsonValue | undefined {
    const known = this.bySpan.get(span)?.get(attribute);
    return known !== undefined && known.redactor === redactor ? known.value : undefined;
  }
}
