import { type CliCommand, DATABASE_URL_FLAG, defineCommand } from '../command.js';
import { openCliStore } from '../open-cli-store.js';

/** Applies pending migrations (tables, indexes, append-only triggers, row-level security). */
export const command: CliCommand = defineCommand({
  name: 'migrate',
  summary: 'Apply pending migrations (tables, indexes, append-only triggers, row-level security)',
  flags: { 'database-url': DATABASE_URL_FLAG },
  async run({ flags, io }) {
    const store = await openCliStore(flags['database-url'], true);
    try {
      io.err.write(`aitrail: migrations applied to ${store.location}\n`);
    } finally {
      await store.close();
    }
  },
});
