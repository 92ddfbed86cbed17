import { parseArgs } from 'node:util';
import { eraseSubject } from '../../store/erasure/erase-subject.js';
import { openCliStore } from '../open-cli-store.js';
import { signerFromEnv } from '../signing-key.js';
import { UsageError } from '../usage-error.js';

export const ERASE_USAGE =
  'aitrail erase --subject ID [--tenant T] --reason TEXT [--database-url URL]';

/**
 * Erases a data subject's personal values (GDPR Art. 17) and prints the signed receipt as JSON.
 * The receipt's `subjectSalt` is stored nowhere else: hand it to the requester.
 */
export async function eraseCommand(args: string[], out: NodeJS.WritableStream): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      subject: { type: 'string' },
      tenant: { type: 'string' },
      reason: { type: 'string' },
      'database-url': { type: 'string' },
    },
  });
  if (!values.subject?.trim()) throw new UsageError('erase needs --subject ID');
  if (!values.reason?.trim())
    throw new UsageError('erase needs --reason TEXT (why, for the record)');
  const signer = signerFromEnv(process.env);
  const store = await openCliStore(values['database-url']);
  try {
    const receipt = await eraseSubject(store, {
      subjectId: values.subject,
      tenantId: values.tenant,
      reason: values.reason,
      actor: { type: 'system', id: 'aitrail-cli' },
      signer,
    });
    out.write(`${JSON.stringify(receipt, null, 2)}\n`);
  } finally {
    await store.close();
  }
}
