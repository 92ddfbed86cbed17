import { isPermissionProblem, openAuditStore } from '../../store/open-store.js';
import { type CliCommand, DATABASE_URL_FLAG, defineCommand } from '../command.js';
import { resolveDatabaseUrl } from '../open-cli-store.js';
import { UsageError } from '../usage-error.js';

/**
 * Applies pending migrations (tables, indexes, append-only triggers, row-level security), then
 * checks every protection is in place. Success is printed only after that check; a role that
 * may not migrate exits 2, missing protections exit 1 naming each.
 */
export const command: CliCommand = defineCommand({
  name: 'migrate',
  summary: 'Apply pending migrations (tables, indexes, append-only triggers, row-level security)',
  details:
    'Success is printed only once every protection (append-only triggers, forced row-level security, grants) is verified in place.',
  flags: {
    'database-url': DATABASE_URL_FLAG,
    'reinstall-protections': {
      type: 'boolean',
      description:
        'install the triggers, policies and grants again (after a host tool dropped them)',
    },
  },
  async run({ flags, io }) {
    const store = await openAuditStore({
      databaseUrl: resolveDatabaseUrl(flags['database-url']),
      migrate: false,
    });
    try {
      const result = await store.migrate({
        reinstallProtections: flags['reinstall-protections'] === true,
      });
      const adopted = result.adopted ? `, ${result.adopted} adopted from drizzle's table` : '';
      const reinstalled = result.reinstalled ? ', protections reinstalled' : '';
      io.err.write(
        `aitrail: migrations applied to ${store.location} (${result.applied} new${adopted}${reinstalled}); protections verified\n`,
      );
    } catch (error) {
      if (store.kind === 'postgres' && isPermissionProblem(error)) {
        const [role] = await store
          .query<{ name: string }>('SELECT current_user AS name')
          .catch(() => [{ name: 'this role' }]);
        throw new UsageError(
          `role "${role?.name}" may not migrate ${store.location} (${firstLine(error)}): run \`aitrail migrate\` as the role that owns the audit tables`,
        );
      }
      throw error;
    } finally {
      await store.close();
    }
  },
});

function firstLine(error: unknown): string {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const cause = (e as { cause?: unknown }).cause;
    if (!cause) return ((e as Error).message ?? String(e)).split('\n')[0] ?? '';
    e = cause;
  }
  return String(error);
}
