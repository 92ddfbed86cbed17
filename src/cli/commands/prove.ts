import { AitrailError } from '../../errors.js';
import { proveEvent } from '../../store/verify/prove.js';
import { type CliCommand, DATABASE_URL_FLAG, defineCommand } from '../command.js';
import { openCliStore } from '../open-cli-store.js';
import { CheckFailed } from '../usage-error.js';

/** Prints an inclusion proof of one row in its chain's latest signed tree head. */
export const command: CliCommand = defineCommand({
  name: 'prove',
  summary: "Print a JSON inclusion proof of one row in its chain's latest signed tree head",
  details:
    'The proof (JSON on stdout) can be checked offline with aitrail verify-proof. Exit 1 when the row is unknown, not yet under a tree head, or its chain does not verify.',
  positionals: [{ name: 'EVENT_ID', description: 'the row to prove', required: true }],
  flags: { 'database-url': DATABASE_URL_FLAG },
  async run({ flags, positionals, io }) {
    const eventId = positionals[0] as string;
    const store = await openCliStore(flags['database-url']);
    try {
      const proof = await proveEvent(store, { eventId });
      io.out.write(`${JSON.stringify(proof, null, 2)}\n`);
    } catch (error) {
      if (error instanceof AitrailError) throw new CheckFailed(error.message);
      throw error;
    } finally {
      await store.close();
    }
  },
});
