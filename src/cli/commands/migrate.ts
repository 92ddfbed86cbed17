import { openAuditStore } from '../../store/open-store.js';
import { type CliCommand, DATABASE_URL_FLAG, defineCommand } from '../command.js';
import { openCliStore, resolveDatabaseUrl } from '../open-cli-store.js';
import { UsageError } from '../usage-error.js';

/** insufficient_privilege or read_only_sql_transaction anywhere in the cause chain. */
function refusedForRole(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === '42501' || code === '25006') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Applies pending migrations (tables, indexes, append-only triggers, row-level security).
 * Unlike opening a store, a role that may not migrate is an error here (exit 2), never a
 * silent success.
 */
export const command: CliCommand = defineCommand({
  name: 'migrate',
  summary: 'Apply pending migrations (tables, indexes, append-only triggers, row-level security)',
  flags: { 'database-url': DATABASE_URL_FLAG },
  async run({ flags, io }) {
    const url = resolveDatabaseUrl(flags['database-url']);
    const store =
      url === undefined
        ? await openCliStore(undefined, true)
        : await openAuditStore({ databaseUrl: url, migrate: false });
    try {
      if (url !== undefined) {
        try {
          await store.migrate();
        } catch (error) {
          if (refusedForRole(error))
            throw new UsageError(
              `migrate: this role may not change the schema (${(error as Error).message.split('\n')[0]}); run it as the owner role`,
            );
          throw error;
        }
      }
      io.err.write(`aitrail: migrations applied to ${store.location}\n`);
    } finally {
      await store.close();
    }
  },
});
