/** Base class of every runtime error aitrail raises: a stable `code` and the `cause` behind it. */
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
