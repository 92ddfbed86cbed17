import { grantTenantReader, listTenantReaders } from '../../store/reader-tenants.js';
import { type CliCommand, DATABASE_URL_FLAG, defineCommand, type FlagSpec } from '../command.js';
import { openCliStore } from '../open-cli-store.js';
import { UsageError } from '../usage-error.js';

/** `--tenant` and `--role` of grant-reader and revoke-reader, both required. */
export const READER_ROLE_FLAGS = {
  tenant: {
    type: 'string',
    valueName: 'T',
    description: 'the tenant whose rows the role may read (required)',
  },
  role: { type: 'string', valueName: 'R', description: 'the database role (required)' },
} as const satisfies Record<string, FlagSpec>;

/** Both `--tenant` and `--role` given and not empty. */
export function requireReaderFlags(
  command: string,
  flags: { tenant?: string; role?: string },
): { tenant: string; role: string } {
  for (const name of ['tenant', 'role'] as const) {
    if (!flags[name]) throw new UsageError(`${command}: --${name} is required`);
  }
  return { tenant: flags.tenant as string, role: flags.role as string };
}

/** Postgres refusals that are the caller's to fix: no such role, a role that may not be mapped, not the owner. */
export function asUsageError(error: unknown): unknown {
  const code = (error as { code?: unknown })?.code;
  if (
    code === '42704' ||
    code === '22023' ||
    code === '42501' ||
    code === 'MIGRATION_PENDING' ||
    code === 'READERS_NEED_POSTGRES'
  )
    return new UsageError((error as Error).message.replace(/^aitrail: /, ''));
  return error;
}

/** Maps a database role to a tenant: it then reads that tenant's rows only, whatever it sets. */
export const command: CliCommand = defineCommand({
  name: 'grant-reader',
  summary: "Let a database role read one tenant's rows only (Postgres row-level security)",
  details:
    "Run as the owner role. The role then reads that tenant's rows of audit_logs only, whatever it sets; grant again to add tenants. The tenants it reads are reported on stderr.",
  flags: {
    ...READER_ROLE_FLAGS,
    'function-only': {
      type: 'boolean',
      description: 'read through aitrail_tenant_audit_logs() only, not audit_logs itself',
    },
    'database-url': DATABASE_URL_FLAG,
  },
  async run({ flags, io }) {
    const { tenant, role } = requireReaderFlags('grant-reader', flags);
    const functionOnly = flags['function-only'] === true;
    const store = await openCliStore(flags['database-url']);
    try {
      await grantTenantReader(store, { role, tenant, functionOnly }).catch((error: unknown) => {
        throw asUsageError(error);
      });
      const tenants = (await listTenantReaders(store, { role })).map((g) => g.tenant);
      const through = functionOnly ? ' through aitrail_tenant_audit_logs() only' : '';
      io.err.write(
        `aitrail: role "${role}" reads tenant(s) ${tenants.join(', ')} of audit_logs${through}\n`,
      );
    } finally {
      await store.close();
    }
  },
});
