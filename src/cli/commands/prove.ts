import { parseArgs } from 'node:util';
import { AitrailError } from '../../errors.js';
import { proveEvent } from '../../store/verify/prove.js';
import { openCliStore } from '../open-cli-store.js';
import { CheckFailed, UsageError } from '../usage-error.js';

export const PROVE_USAGE =
  'aitrail prove EVENT_ID [--database-url URL]  (JSON inclusion proof on stdout)';

/** Prints an inclusion proof of one row in its chain's latest signed tree head. */
export async function proveCommand(args: string[], out: NodeJS.WritableStream): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { 'database-url': { type: 'string' } },
  });
  const [eventId, ...extra] = positionals;
  if (eventId === undefined || extra.length > 0)
    throw new UsageError(`prove expects exactly one EVENT_ID (${PROVE_USAGE})`);
  const store = await openCliStore(values['database-url']);
  try {
    const proof = await proveEvent(store, { eventId });
    out.write(`${JSON.stringify(proof, null, 2)}\n`);
  } catch (error) {
    if (error instanceof AitrailError) throw new CheckFailed(error.message);
    throw error;
  } finally {
    await store.close();
  }
}
