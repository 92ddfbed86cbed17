/** A runtime failure with a stable `code` callers can branch on, and the `cause` under it. */
export class AitrailError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AitrailError';
    this.code = code;
  }
}
