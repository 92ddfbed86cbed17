import { eraseSubject } from '../../store/erasure/erase-subject.js';
import { type CliCommand, DATABASE_URL_FLAG, defineCommand } from '../command.js';
import { openCliStore } from '../open-cli-store.js';
import { signerFromEnv } from '../signing-key.js';
import { UsageError } from '../usage-error.js';

/**
 * Erases a data subject's personal values (GDPR Art. 17) and prints the signed receipt as JSON.
 * The receipt's `subjectSalt` is stored nowhere else: hand it to the requester.
 */
export const command: CliCommand = defineCommand({
  name: 'erase',
  summary: "Erase a data subject's personal values (GDPR Art. 17) and print the signed receipt",
  details:
    'The receipt (JSON on stdout) is signed with AITRAIL_SIGNING_KEY. Its subjectSalt is stored nowhere else: hand it to the requester.\nChains keep verifying; an active legal hold on the subject or tenant blocks the erasure.',
  flags: {
    subject: { type: 'string', valueName: 'ID', description: 'the data subject id (required)' },
    tenant: { type: 'string', valueName: 'T', description: "only this tenant's rows" },
    reason: {
      type: 'string',
      valueName: 'TEXT',
      description: 'why, for the record (required; kept in the receipt)',
    },
    'database-url': DATABASE_URL_FLAG,
  },
  async run({ flags, io }) {
    if (!flags.subject?.trim()) throw new UsageError('erase needs --subject ID');
    if (!flags.reason?.trim())
      throw new UsageError('erase needs --reason TEXT (why, for the record)');
    const signer = signerFromEnv(io.env);
    const store = await openCliStore(flags['database-url']);
    try {
      const receipt = await eraseSubject(store, {
        subjectId: flags.subject,
        tenantId: flags.tenant,
        reason: flags.reason,
        actor: { type: 'system', id: 'aitrail-cli' },
        signer,
      });
      io.out.write(`${JSON.stringify(receipt, null, 2)}\n`);
    } finally {
      await store.close();
    }
  },
});
