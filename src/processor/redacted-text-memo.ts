import type { Redactor } from '../sanitize/types.js';

/** Longest text remembered; longer ones (messages, reasons) are redacted every time. */
const MAX_TEXT_LENGTH = 128;
/** Texts remembered at most; the memo starts over when it is full. */
const MAX_ENTRIES = 2048;

/**
 * The redacted form of short texts that repeat from span to span (actions, tracer, tool, agent
 * and span names, conversation and task ids): each is redacted once by the processor's
 * redactor, then looked up.
 * Redaction is a pure function of the text for one redactor, so the row is the same either way.
 */
export class RedactedTextMemo {
  private readonly known = new Map<string, string>();

  constructor(readonly redactor: Redactor) {}

  redact(text: string): string {
    if (text.length > MAX_TEXT_LENGTH) return this.redactor.redactText(text);
    let redacted = this.known.get(text);
    if (redacted === undefined) {
      redacted = this.redactor.redactText(text);
      if (this.known.size >= MAX_ENTRIES) this.known.clear();
      this.known.set(text, redacted);
    }
    return redacted;
  }
}
