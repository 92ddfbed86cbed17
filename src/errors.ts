/**
 * Every runtime failure aitrail raises is an `AitrailError`: a stable `code` to branch on, the
 * underlying `cause`, and a message that ends with advice chosen from that cause. Misuse of an
 * API (a bad option) stays a `TypeError` naming the option.
 */
export type AitrailErrorCode =
  /** `initAuditTelemetry` found another tracer provider registered on the OpenTelemetry API. */
  | 'PROVIDER_ALREADY_REGISTERED'
  /** `initAuditTelemetry` called while an instance is running in this process. */
  | 'ALREADY_INITIALISED'
  /** An optional peer package (e.g. `@openai/agents`, `@opentelemetry/sdk-metrics`) is not installed. */
  | 'PEER_MISSING'
  /** Applying or checking the schema migrations failed. */
  | 'MIGRATION_FAILED'
  /** The database did not answer, refused the connection or the credentials. */
  | 'DATABASE_UNAVAILABLE'
  /** The database answered with a permission error for the role in use. */
  | 'PERMISSION_DENIED'
  /** A store call did not answer within `writeTimeoutMs`. */
  | 'WRITE_TIMEOUT'
  /** The embedded store's directory is locked by another live process. */
  | 'STORE_LOCKED'
  /** A verification could not be scoped as asked (e.g. a tenant the role cannot see). */
  | 'VERIFY_SCOPE'
  /** The driver cannot do what was asked (e.g. COPY for a role under row-level security). */
  | 'FEATURE_NOT_SUPPORTED'
  /** The tables aitrail needs are not there (run `aitrail migrate`). */
  | 'TABLES_MISSING'
  /** Append-only triggers, forced row-level security or grants are not in place. */
  | 'PROTECTIONS_MISSING'
  /** The schema is older than this version needs (run `aitrail migrate`). */
  | 'MIGRATION_PENDING'
  /** Per-tenant reader roles exist only on Postgres. */
  | 'READERS_NEED_POSTGRES'
  /** A legal hold blocks erasure or retention. */
  | 'LEGAL_HOLD'
  /** No legal hold with that id. */
  | 'HOLD_NOT_FOUND'
  /** No row with that event id. */
  | 'EVENT_NOT_FOUND'
  /** The row's chain has no signed tree head covering it yet. */
  | 'NOT_ANCHORED'
  /** The row belongs to a chain written before tree heads (no inclusion proof). */
  | 'LEGACY_CHAIN'
  /** The rows of a chain do not reproduce its hashes or tree head. */
  | 'CHAIN_BROKEN'
  /** A read could not be recorded as an `audit.read` event, so it was refused. */
  | 'AUDIT_READ_NOT_RECORDED'
  /** A retention period shorter than the floor, without an override reason. */
  | 'RETENTION_BELOW_FLOOR';

export const AITRAIL_ERROR_CODES: readonly AitrailErrorCode[] = [
  'PROVIDER_ALREADY_REGISTERED',
  'ALREADY_INITIALISED',
  'PEER_MISSING',
  'MIGRATION_FAILED',
  'DATABASE_UNAVAILABLE',
  'PERMISSION_DENIED',
  'WRITE_TIMEOUT',
  'STORE_LOCKED',
  'VERIFY_SCOPE',
  'FEATURE_NOT_SUPPORTED',
  'TABLES_MISSING',
  'PROTECTIONS_MISSING',
  'MIGRATION_PENDING',
  'READERS_NEED_POSTGRES',
  'LEGAL_HOLD',
  'HOLD_NOT_FOUND',
  'EVENT_NOT_FOUND',
  'NOT_ANCHORED',
  'LEGACY_CHAIN',
  'CHAIN_BROKEN',
  'AUDIT_READ_NOT_RECORDED',
  'RETENTION_BELOW_FLOOR',
];

export class AitrailError extends Error {
  readonly code: AitrailErrorCode;
  declare readonly cause?: unknown;

  constructor(code: AitrailErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AitrailError';
    this.code = code;
  }
}

export function isAitrailError(error: unknown, code?: AitrailErrorCode): error is AitrailError {
  return error instanceof AitrailError && (code === undefined || error.code === code);
}

/** What went wrong underneath, in terms an operator can act on. */
export type FailureCause =
  | 'connection'
  | 'authentication'
  | 'permission'
  | 'missing-table'
  | 'timeout'
  | 'other';

const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01', // admin_shutdown
  '57P03', // cannot_connect_now
  '3D000', // invalid_catalog_name: the database does not exist
]);

/** Classifies a driver or system error by its `code` (Postgres SQLSTATE or Node errno). */
export function classifyFailure(error: unknown): FailureCause {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (CONNECTION_CODES.has(code)) return 'connection';
      if (code === '28P01' || code === '28000') return 'authentication';
      if (code === '42501') return 'permission';
      if (code === '42P01') return 'missing-table';
      if (code === 'WRITE_TIMEOUT') return 'timeout';
    }
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const inner = classifyFailure(errors[0]);
      if (inner !== 'other') return inner;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return 'other';
}

const ADVICE: Record<FailureCause, string> = {
  connection: 'Is the database running, and does DATABASE_URL (or databaseUrl) point at it?',
  authentication: 'Check the user name and password in DATABASE_URL.',
  permission:
    'The role in DATABASE_URL lacks a privilege: run `aitrail migrate` as the role that owns the schema, and start the app with `migrate: false` as the writer role.',
  'missing-table':
    'The audit tables do not exist: run `aitrail migrate` (or start once with `migrate: true`) against this database.',
  timeout:
    'The database is slow or stuck: check its load and locks, or raise delivery.writeTimeoutMs.',
  other: '',
};

/** A sentence of advice for the classified cause of `error` ('' when nothing specific applies). */
export function adviceFor(error: unknown): string {
  return ADVICE[classifyFailure(error)];
}

/** `message`, the cause's own message, and advice chosen from the cause, as one line. */
export function describeWithAdvice(message: string, cause: unknown): string {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const advice = adviceFor(cause);
  return `${message}: ${reason}.${advice ? ` ${advice}` : ''}`;
}
