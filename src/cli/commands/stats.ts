import {
  countAuditEvents,
  STATS_BUCKETS,
  STATS_DIMENSIONS,
  type StatsBucket,
  type StatsDimension,
  type StatsRow,
} from '../../store/queries/stats.js';
import {
  type CliCommand,
  DATABASE_URL_FLAG,
  defineCommand,
  formatFlag,
  READER_FLAG,
  ROW_FORMATS,
} from '../command.js';
import { FILTER_FLAGS, filterFromFlags } from '../filter-flags.js';
import { type Column, createRowPrinter, type OutputFormat } from '../format.js';
import { openCliReading } from '../open-cli-store.js';
import { UsageError } from '../usage-error.js';

/** `aitrail stats --by tenant,action --bucket day --since 7d`: counts per group and bucket. */
export const command: CliCommand = defineCommand({
  name: 'stats',
  summary: 'Count audit rows per tenant, action, outcome, tool, agent or actor, and time bucket',
  details:
    'Example: aitrail stats --by tenant,action --action ai.rate_limited --bucket week --since 2026-11',
  flags: {
    by: {
      type: 'string',
      valueName: 'DIMS',
      description: `comma-separated: ${STATS_DIMENSIONS.join(', ')}`,
    },
    bucket: {
      type: 'string',
      valueName: 'UNIT',
      choices: STATS_BUCKETS,
      description: 'also count per UTC hour, day, week (from Monday) or month',
    },
    ...FILTER_FLAGS,
    format: formatFlag(ROW_FORMATS),
    reader: READER_FLAG,
    'database-url': DATABASE_URL_FLAG,
  },
  async run({ flags, io }) {
    const by = (flags.by ?? '')
      .split(',')
      .map((d) => d.trim())
      .filter(Boolean);
    for (const d of by) {
      if (!(STATS_DIMENSIONS as readonly string[]).includes(d))
        throw new UsageError(`--by takes ${STATS_DIMENSIONS.join(', ')}; got "${d.slice(0, 40)}"`);
    }
    if (new Set(by).size !== by.length) throw new UsageError('--by names a dimension twice');
    const filter = filterFromFlags(flags);
    const { store, read, close } = await openCliReading(
      flags['database-url'],
      io.env,
      flags.reader,
    );
    try {
      const rows = await countAuditEvents(store, {
        by: by as StatsDimension[],
        bucket: flags.bucket as StatsBucket | undefined,
        filter,
        ...read,
      });
      const keys: Array<keyof StatsRow> = [
        ...(flags.bucket ? (['bucket'] as const) : []),
        ...(by as StatsDimension[]),
      ];
      const columns: Column<StatsRow>[] = [
        ...keys.map((k) => ({
          header: k.toUpperCase(),
          width: k === 'bucket' ? 20 : 24,
          get: (r: StatsRow) => (k === 'bucket' ? r.bucket?.slice(0, 19).replace('T', ' ') : r[k]),
        })),
        { header: 'COUNT', get: (r) => r.count },
      ];
      const printer = createRowPrinter({
        format: flags.format as OutputFormat,
        out: io.out,
        table: columns,
        csv: [
          ...keys.map((k) => ({ header: k, get: (r: StatsRow) => r[k] })),
          { header: 'count', get: (r) => r.count },
        ],
        empty: '(no audit rows match)',
      });
      for (const row of rows) printer.row(row);
      printer.end();
    } finally {
      await close();
    }
  },
});
