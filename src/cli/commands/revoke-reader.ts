import { revokeTenantReader } from '../../store/reader-tenants.js';
import { openCliStore } from '../open-cli-store.js';
import { asUsageError, parseReaderArgs } from './grant-reader.js';

export const REVOKE_READER_USAGE = 'aitrail revoke-reader --tenant T --role R [--database-url URL]';

/** Removes a tenant from a role's mapping; with the last one the role may no longer read. */
export async function revokeReaderCommand(
  args: string[],
  err: NodeJS.WritableStream,
): Promise<void> {
  const { tenant, role, databaseUrl } = parseReaderArgs('revoke-reader', args);
  const store = await openCliStore(databaseUrl);
  try {
    const remaining = await revokeTenantReader(store, { role, tenant }).catch((error: unknown) => {
      throw asUsageError(error);
    });
    err.write(
      remaining > 0
        ? `aitrail: role "${role}" no longer reads tenant ${tenant} (${remaining} tenant(s) left)\n`
        : `aitrail: role "${role}" no longer reads audit_logs\n`,
    );
  } finally {
    await store.close();
  }
}
