import { revokeTenantReader } from '../../store/reader-tenants.js';
import { type CliCommand, DATABASE_URL_FLAG, defineCommand } from '../command.js';
import { openCliStore } from '../open-cli-store.js';
import { asUsageError, READER_ROLE_FLAGS, requireReaderFlags } from './grant-reader.js';

/** Removes a tenant from a role's mapping; with the last one the role may no longer read. */
export const command: CliCommand = defineCommand({
  name: 'revoke-reader',
  summary: "Remove a tenant from a database role's reader mapping",
  details:
    'Run as the owner role. With its last tenant removed the role may no longer read audit_logs. What is left is reported on stderr.',
  flags: { ...READER_ROLE_FLAGS, 'database-url': DATABASE_URL_FLAG },
  async run({ flags, io }) {
    const { tenant, role } = requireReaderFlags('revoke-reader', flags);
    const store = await openCliStore(flags['database-url']);
    try {
      const remaining = await revokeTenantReader(store, { role, tenant }).catch(
        (error: unknown) => {
          throw asUsageError(error);
        },
      );
      io.err.write(
        remaining > 0
          ? `aitrail: role "${role}" no longer reads tenant ${tenant} (${remaining} tenant(s) left)\n`
          : `aitrail: role "${role}" no longer reads audit_logs\n`,
      );
    } finally {
      await store.close();
    }
  },
});
