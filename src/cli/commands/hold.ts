import { parseArgs } from 'node:util';
import {
  listLegalHolds,
  placeLegalHold,
  releaseLegalHold,
} from '../../store/retention/legal-holds.js';
import { printable } from '../format.js';
import { openCliStore } from '../open-cli-store.js';
import { signerFromEnv } from '../signing-key.js';
import { UsageError } from '../usage-error.js';

export const HOLD_USAGE = `aitrail hold add (--tenant T | --subject ID | both) --reason TEXT
             aitrail hold remove HOLD_ID --reason TEXT
             aitrail hold list [--all] [--format table|json]`;

const OPERATOR = { type: 'system', id: 'aitrail-cli' } as const;

/** Legal holds: they block erasure and retention of what they cover while active. */
export async function holdCommand(args: string[], out: NodeJS.WritableStream): Promise<void> {
  const [verb, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      subject: { type: 'string' },
      reason: { type: 'string' },
      all: { type: 'boolean' },
      format: { type: 'string' },
      'database-url': { type: 'string' },
    },
  });
  if (verb !== 'add' && verb !== 'remove' && verb !== 'list') {
    throw new UsageError(`hold needs add, remove or list, got ${verb ? `"${verb}"` : 'nothing'}`);
  }
  if (verb !== 'list' && !values.reason?.trim())
    throw new UsageError(`hold ${verb} needs --reason TEXT`);
  if (verb === 'add' && values.tenant === undefined && values.subject === undefined) {
    throw new UsageError('hold add needs --tenant T, --subject ID, or both');
  }
  if (verb === 'remove' && positionals.length !== 1) {
    throw new UsageError('hold remove needs exactly one HOLD_ID');
  }
  const store = await openCliStore(values['database-url']);
  try {
    if (verb === 'add') {
      const hold = await placeLegalHold(store, {
        tenantId: values.tenant,
        subjectId: values.subject,
        reason: values.reason as string,
        actor: OPERATOR,
        signer: signerFromEnv(process.env),
      });
      out.write(`${JSON.stringify(hold, null, 2)}\n`);
    } else if (verb === 'remove') {
      const hold = await releaseLegalHold(store, {
        holdId: positionals[0] as string,
        reason: values.reason as string,
        actor: OPERATOR,
        signer: signerFromEnv(process.env),
      });
      out.write(`${JSON.stringify(hold, null, 2)}\n`);
    } else {
      const holds = await listLegalHolds(store, { includeReleased: values.all === true });
      if (values.format === 'json') out.write(`${JSON.stringify(holds, null, 2)}\n`);
      else
        out.write(
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
}
