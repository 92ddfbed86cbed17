import { fileURLToPath } from 'node:url';

/** Generated and hand-written migrations ship next to this module (copied into dist by the build). */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));

/** Serialises concurrent `migrate()` calls across processes (an arbitrary 64-bit constant). */
export const MIGRATION_LOCK_KEY = 7_305_146_823_551_208n;

export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

export function describeMigrationFailure(location: string, cause: unknown): MigrationError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new MigrationError(
    `applying migrations to ${location} failed: ${reason}. ` +
      'Run `aitrail migrate` with a role that owns the schema, then start with `migrate: false`.',
    { cause },
  );
}
