import {
  listLegalHolds,
  placeLegalHold,
  releaseLegalHold,
} from '../../store/retention/legal-holds.js';
import { type CliCommand, DATABASE_URL_FLAG, defineCommand, formatFlag } from '../command.js';
import { printable } from '../format.js';
import { openCliStore } from '../open-cli-store.js';
import { signerFromEnv } from '../signing-key.js';
import { UsageError } from '../usage-error.js';

const OPERATOR = { type: 'system', id: 'aitrail-cli' } as const;

/** Legal holds: they block erasure and retention of what they cover while active. */
export const command: CliCommand = defineCommand({
  name: 'hold',
  summary: 'Place, release or list legal holds (they block erasure and retention while active)',
  details: `aitrail hold add (--tenant T | --subject ID | both) --reason TEXT
aitrail hold remove HOLD_ID --reason TEXT
aitrail hold list [--all] [-o table|json]
add and remove print the hold as JSON; holds are signed with AITRAIL_SIGNING_KEY when set.`,
  positionals: [
    {
      name: 'ACTION',
      description: 'add, remove or list',
      required: true,
      choices: ['add', 'remove', 'list'],
    },
    { name: 'HOLD_ID', description: 'the hold to release (remove only)' },
  ],
  flags: {
    tenant: { type: 'string', valueName: 'T', description: 'add: hold this tenant' },
    subject: { type: 'string', valueName: 'ID', description: 'add: hold this data subject' },
    reason: {
      type: 'string',
      valueName: 'TEXT',
      description: 'why, for the record (required for add and remove)',
    },
    all: { type: 'boolean', description: 'list: include released holds' },
    format: formatFlag(['table', 'json'] as const),
    'database-url': DATABASE_URL_FLAG,
  },
  async run({ flags, positionals, io }) {
    const [verb, holdId] = positionals as ['add' | 'remove' | 'list', string | undefined];
    if (verb !== 'list' && !flags.reason?.trim())
      throw new UsageError(`hold ${verb} needs --reason TEXT`);
    if (verb === 'add' && flags.tenant === undefined && flags.subject === undefined) {
      throw new UsageError('hold add needs --tenant T, --subject ID, or both');
    }
    if (verb === 'remove' && holdId === undefined) {
      throw new UsageError('hold remove needs exactly one HOLD_ID');
    }
    if (verb !== 'remove' && holdId !== undefined) {
      throw new UsageError(`hold ${verb}: unexpected argument "${holdId.slice(0, 40)}"`);
    }
    const store = await openCliStore(flags['database-url']);
    try {
      if (verb === 'add') {
        const hold = await placeLegalHold(store, {
          tenantId: flags.tenant,
          subjectId: flags.subject,
          reason: flags.reason as string,
          actor: OPERATOR,
          signer: signerFromEnv(io.env),
        });
        io.out.write(`${JSON.stringify(hold, null, 2)}\n`);
      } else if (verb === 'remove') {
        const hold = await releaseLegalHold(store, {
          holdId: holdId as string,
          reason: flags.reason as string,
          actor: OPERATOR,
          signer: signerFromEnv(io.env),
        });
        io.out.write(`${JSON.stringify(hold, null, 2)}\n`);
      } else {
        const holds = await listLegalHolds(store, { includeReleased: flags.all === true });
        if (flags.format === 'json') io.out.write(`${JSON.stringify(holds, null, 2)}\n`);
        else
          io.out.write(
            `${
              holds
                .map(
                  (h) =>
                    `${h.id}  ${h.subjectId ? `subject ${printable(h.subjectId)}` : ''}${h.tenantId ? ` tenant ${printable(h.tenantId)}` : ''}  since ${h.placedAt}${h.releasedAt ? `  released ${h.releasedAt}` : ''}  ${printable(h.reason)}`,
                )
                .join('\n') || 'no active legal holds'
            }\n`,
          );
      }
    } finally {
      await store.close();
    }
  },
});
