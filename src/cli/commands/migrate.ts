import { parseArgs } from 'node:util';
import { openCliStore } from '../open-cli-store.js';

export const MIGRATE_USAGE = 'aitrail migrate [--database-url URL]';

/** Applies pending migrations (tables, indexes, append-only triggers, row-level security). */
export async function migrateCommand(args: string[], err: NodeJS.WritableStream): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { 'database-url': { type: 'string' } },
  });
  const store = await openCliStore(values['database-url'], true);
  try {
    err.write(`aitrail: migrations applied to ${store.location}\n`);
  } finally {
    await store.close();
  }
}
