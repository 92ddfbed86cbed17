import { applyRetention } from '../../store/retention/apply-retention.js';
import { listRetentionPolicies, setRetentionPolicy } from '../../store/retention/policy.js';
import { type CliCommand, DATABASE_URL_FLAG, defineCommand } from '../command.js';
import { openCliStore } from '../open-cli-store.js';
import { signerFromEnv } from '../signing-key.js';
import { UsageError } from '../usage-error.js';

/** Retention policies, and removal of whole expired months with a signed prune record. */
export const command: CliCommand = defineCommand({
  name: 'retention',
  summary: 'Set or list retention policies; apply them by removing whole expired months',
  details: `aitrail retention apply [--dry-run]
aitrail retention set --tenant T|'*' --keep-months N [--override-reason TEXT]
aitrail retention list
apply removes each expired month as a whole partition (only when every tenant with rows in it
is past its period; a tenant without a policy keeps forever) and leaves a prune record signed
with AITRAIL_SIGNING_KEY; an active legal hold on any of them stops the run. Results print as JSON.`,
  positionals: [
    {
      name: 'ACTION',
      description: 'apply, set or list',
      required: true,
      choices: ['apply', 'set', 'list'],
    },
  ],
  flags: {
    'dry-run': {
      type: 'boolean',
      description: 'apply: report what would be removed, remove nothing',
    },
    tenant: {
      type: 'string',
      valueName: "T|'*'",
      description: "set: the tenant the policy is for ('*' for the default)",
    },
    'keep-months': {
      type: 'string',
      valueName: 'N',
      description: 'set: keep this many whole months (>= 1)',
    },
    'override-reason': {
      type: 'string',
      valueName: 'TEXT',
      description: 'set: why, to go below the 6-month floor (EU AI Act Art. 19, 26(6))',
    },
    'database-url': DATABASE_URL_FLAG,
  },
  async run({ flags, positionals, io }) {
    const verb = positionals[0] as 'apply' | 'set' | 'list';
    let keepMonths = 0;
    if (verb === 'set') {
      if (flags.tenant === undefined)
        throw new UsageError("retention set needs --tenant T (or '*')");
      keepMonths = Number(flags['keep-months']);
      if (!Number.isInteger(keepMonths) || keepMonths < 1) {
        throw new UsageError(
          `--keep-months must be a whole number of months >= 1, got "${flags['keep-months']}"`,
        );
      }
    }
    const store = await openCliStore(flags['database-url']);
    try {
      let result: unknown;
      if (verb === 'apply') {
        result = await applyRetention(store, {
          dryRun: flags['dry-run'] === true,
          signer: signerFromEnv(io.env),
          actor: { type: 'system', id: 'aitrail-cli' },
        });
      } else if (verb === 'set') {
        result = await setRetentionPolicy(store, {
          tenantId: flags.tenant as string,
          keepMonths,
          overrideReason: flags['override-reason'],
        });
      } else {
        result = await listRetentionPolicies(store);
      }
      io.out.write(`${JSON.stringify(result, null, 2)}\n`);
    } finally {
      await store.close();
    }
  },
});
