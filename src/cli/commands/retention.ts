import { parseArgs } from 'node:util';
import { applyRetention } from '../../store/retention/apply-retention.js';
import { listRetentionPolicies, setRetentionPolicy } from '../../store/retention/policy.js';
import { openCliStore } from '../open-cli-store.js';
import { signerFromEnv } from '../signing-key.js';
import { UsageError } from '../usage-error.js';

export const RETENTION_USAGE = `aitrail retention apply [--dry-run]
             aitrail retention set --tenant T|'*' --keep-months N [--override-reason TEXT]
             aitrail retention list`;

/** Retention policies, and removal of whole expired months with a signed prune record. */
export async function retentionCommand(args: string[], out: NodeJS.WritableStream): Promise<void> {
  const [verb, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: false,
    options: {
      'dry-run': { type: 'boolean' },
      tenant: { type: 'string' },
      'keep-months': { type: 'string' },
      'override-reason': { type: 'string' },
      'database-url': { type: 'string' },
    },
  });
  if (verb !== 'apply' && verb !== 'set' && verb !== 'list') {
    throw new UsageError(
      `retention needs apply, set or list, got ${verb ? `"${verb}"` : 'nothing'}`,
    );
  }
  let keepMonths = 0;
  if (verb === 'set') {
    if (values.tenant === undefined)
      throw new UsageError("retention set needs --tenant T (or '*')");
    keepMonths = Number(values['keep-months']);
    if (!Number.isInteger(keepMonths) || keepMonths < 1) {
      throw new UsageError(
        `--keep-months must be a whole number of months >= 1, got "${values['keep-months']}"`,
      );
    }
  }
  const store = await openCliStore(values['database-url']);
  try {
    let result: unknown;
    if (verb === 'apply') {
      result = await applyRetention(store, {
        dryRun: values['dry-run'] === true,
        signer: signerFromEnv(process.env),
        actor: { type: 'system', id: 'aitrail-cli' },
      });
    } else if (verb === 'set') {
      result = await setRetentionPolicy(store, {
        tenantId: values.tenant as string,
        keepMonths,
        overrideReason: values['override-reason'],
      });
    } else {
      result = await listRetentionPolicies(store);
    }
    out.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await store.close();
  }
}
