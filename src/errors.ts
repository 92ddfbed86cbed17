/** A runtime failure of aitrail: a stable `code` to branch on, and the `cause` underneath. */
export class AitrailError extends Error {
  readonly code: string;
  override readonly cause?: unknown;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AitrailError';
    this.code = code;
    this.cause = options?.cause;
  }
}
