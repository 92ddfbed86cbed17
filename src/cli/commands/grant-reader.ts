import { parseArgs } from 'node:util';
import { grantTenantReader, listTenantReaders } from '../../store/reader-tenants.js';
import { openCliStore } from '../open-cli-store.js';
import { UsageError } from '../usage-error.js';

export const GRANT_READER_USAGE =
  'aitrail grant-reader --tenant T --role R [--function-only] [--database-url URL]';

/** The `--tenant` and `--role` of grant-reader and revoke-reader, both required. */
export function parseReaderArgs(
  command: string,
  args: string[],
): { tenant: string; role: string; functionOnly: boolean; databaseUrl: string | undefined } {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      tenant: { type: 'string' },
      role: { type: 'string' },
      ...(command === 'grant-reader' ? { 'function-only': { type: 'boolean' as const } } : {}),
      'database-url': { type: 'string' },
    },
  });
  for (const name of ['tenant', 'role'] as const) {
    if (!values[name]) throw new UsageError(`${command}: --${name} is required`);
  }
  return {
    tenant: values.tenant as string,
    role: values.role as string,
    functionOnly: (values as { 'function-only'?: boolean })['function-only'] === true,
    databaseUrl: values['database-url'],
  };
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
export async function grantReaderCommand(
  args: string[],
  err: NodeJS.WritableStream,
): Promise<void> {
  const { tenant, role, functionOnly, databaseUrl } = parseReaderArgs('grant-reader', args);
  const store = await openCliStore(databaseUrl);
  try {
    await grantTenantReader(store, { role, tenant, functionOnly }).catch((error: unknown) => {
      throw asUsageError(error);
    });
    const tenants = (await listTenantReaders(store, { role })).map((g) => g.tenant);
    const through = functionOnly ? ' through aitrail_tenant_audit_logs() only' : '';
    err.write(
      `aitrail: role "${role}" reads tenant(s) ${tenants.join(', ')} of audit_logs${through}\n`,
    );
  } finally {
    await store.close();
  }
}
