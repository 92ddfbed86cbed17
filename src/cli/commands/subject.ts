import { exportSubject } from '../../store/queries/subject-export.js';
import {
  type CliCommand,
  DATABASE_URL_FLAG,
  defineCommand,
  formatFlag,
  READER_FLAG,
} from '../command.js';
import { openCliReading } from '../open-cli-store.js';
import { signerFromEnv } from '../signing-key.js';
import { parseTimeRange } from '../time-bound.js';
import { UsageError } from '../usage-error.js';

/** `aitrail subject export --subject ID`: a GDPR Art. 15 export as JSON on stdout. */
export const command: CliCommand = defineCommand({
  name: 'subject',
  summary:
    'Export everything about one data subject (GDPR Art. 15) with a manifest and chain heads',
  details:
    'Rows where the subject is the subject, the actor or the resource; erased fields are listed\nper row. json: one document {manifest, rows, proof}; ndjson: the manifest line, then one line per row.',
  positionals: [{ name: 'ACTION', description: 'export', required: true, choices: ['export'] }],
  flags: {
    subject: { type: 'string', valueName: 'ID', description: 'the data subject id (required)' },
    tenant: {
      type: 'string',
      valueName: 'T',
      description: 'only this tenant (also sets it for RLS)',
    },
    since: {
      type: 'string',
      valueName: '7d|DATE|MONTH|ISO',
      description: 'rows from this time on',
    },
    until: { type: 'string', valueName: 'DATE|MONTH|ISO', description: 'rows up to this time' },
    format: formatFlag(['json', 'ndjson'] as const),
    reader: READER_FLAG,
    'database-url': DATABASE_URL_FLAG,
  },
  async run({ flags, io }) {
    if (flags.subject === undefined || flags.subject === '')
      throw new UsageError('subject export needs --subject ID');
    const range = parseTimeRange({ since: flags.since, until: flags.until });
    const signer = signerFromEnv(io.env);
    const { store, read, close } = await openCliReading(
      flags['database-url'],
      io.env,
      flags.reader,
    );
    try {
      const result = await exportSubject(store, {
        subjectId: flags.subject,
        tenantId: flags.tenant,
        since: range.since,
        before: range.before ?? (range.until ? new Date(Date.parse(range.until) + 1) : undefined),
        ...read,
        signer,
      });
      if (flags.format === 'ndjson') {
        io.out.write(`${JSON.stringify({ manifest: result.manifest, proof: result.proof })}\n`);
        for (const row of result.rows) io.out.write(`${JSON.stringify(row)}\n`);
      } else {
        io.out.write(`${JSON.stringify(result, null, 2)}\n`);
      }
    } finally {
      await close();
    }
  },
});
