import { writeFileSync } from 'node:fs';
import { buildEvidence } from '../../store/queries/evidence.js';
import { type CliCommand, DATABASE_URL_FLAG, defineCommand, READER_FLAG } from '../command.js';
import { renderEvidenceHtml } from '../evidence-html.js';
import { openCliReading } from '../open-cli-store.js';
import { signerFromEnv } from '../signing-key.js';
import { parsePeriod } from '../time-bound.js';
import { CheckFailed, UsageError } from '../usage-error.js';

/** `aitrail evidence --period 2026-Q4 --out FILE.html`: one self-contained HTML report. */
export const command: CliCommand = defineCommand({
  name: 'evidence',
  summary: 'Write a self-contained HTML evidence report (SOC 2 CC7.2, AI Act Art. 12) for a period',
  details:
    'Activity per action and tenant (inline SVG charts), approvals and decision times, failures and\nstops, retention and erasure, readers, and the verify result with its tree heads.\nExits 1 (after writing the report) when verification fails.',
  flags: {
    period: {
      type: 'string',
      valueName: 'PERIOD',
      description: 'a year (2026), quarter (2026-Q4), month (2026-11) or day (required)',
    },
    out: { type: 'string', valueName: 'FILE', description: 'where to write the HTML (required)' },
    reader: READER_FLAG,
    'database-url': DATABASE_URL_FLAG,
  },
  async run({ flags, io }) {
    if (flags.period === undefined) throw new UsageError('evidence needs --period (e.g. 2026-Q4)');
    if (flags.out === undefined || flags.out === '')
      throw new UsageError('evidence needs --out FILE.html');
    const period = parsePeriod('--period', flags.period);
    if (period?.end === undefined)
      throw new UsageError(
        `--period expects 2026, 2026-Q4, 2026-11 or 2026-11-27, got "${flags.period.slice(0, 40)}"`,
      );
    const signer = signerFromEnv(io.env);
    const { store, read, close } = await openCliReading(
      flags['database-url'],
      io.env,
      flags.reader,
    );
    let ok: boolean;
    try {
      const evidence = await buildEvidence(store, {
        since: period.start,
        before: period.end,
        label: flags.period,
        ...read,
        signer,
      });
      writeFileSync(flags.out, renderEvidenceHtml(evidence));
      ok = evidence.verify.ok;
      io.err.write(`aitrail: evidence for ${flags.period} written to ${flags.out}\n`);
    } finally {
      await close();
    }
    if (!ok) throw new CheckFailed('verify failed: the report says which chains do not hold');
  },
});
