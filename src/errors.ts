/** A runtime failure with a stable `code` and the `cause` it came from. */
export class AitrailError extends Error {
  readonly code: string;
  override readonly cause: unknown;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AitrailError';
    this.code = code;
    this.cause = options?.cause;
  }
}
