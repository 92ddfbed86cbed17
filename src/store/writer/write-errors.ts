/** How the writer reacts to a failed insert. */
export type WriteFailureKind = 'transient' | 'rejected';

/**
 * SQLSTATE classes where the database rejected the data itself: retrying the same rows can never
 * succeed, so the batch is split to isolate the poison record. Everything else (connection
 * loss, shutdown, missing grants, lock timeouts) may heal, so it is retried.
 */
const REJECTED_CLASSES: ReadonlySet<string> = new Set(['22', '23', '54']);

export function classifyWriteError(error: unknown): WriteFailureKind {
  const code = (error as { code?: unknown } | null)?.code;
  if (
    typeof code === 'string' &&
    /^[0-9A-Z]{5}$/.test(code) &&
    REJECTED_CLASSES.has(code.slice(0, 2))
  ) {
    return 'rejected';
  }
  return 'transient';
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code} ${error.message}` : error.message;
  }
  return String(error);
}

const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01',
  '57P02',
  '57P03',
]);

/** The database could not be reached (as opposed to answering with an error). */
export function isConnectionError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08')))
      return true;
    const nested = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(nested) && nested.some((inner) => isConnectionError(inner))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A unique violation on the chain position rather than on the idempotency key. */
export function isChainCollision(error: unknown): boolean {
  const e = error as {
    code?: unknown;
    constraint_name?: unknown;
    constraint?: unknown;
    message?: unknown;
  };
  if (e?.code !== '23505') return false;
  const constraint = e.constraint_name ?? e.constraint ?? e.message;
  return typeof constraint === 'string' && constraint.includes('audit_logs_chain_seq_key');
}
