import { streamAuditLogs } from '../../store/queries.js';
import {
  type CliCommand,
  DATABASE_URL_FLAG,
  defineCommand,
  formatFlag,
  READER_FLAG,
  ROW_FORMATS,
} from '../command.js';
import { FILTER_FLAGS, filterFromFlags } from '../filter-flags.js';
import {
  createRowPrinter,
  ENTRY_CSV,
  ENTRY_TABLE,
  type OutputFormat,
  printAll,
  traceUiUrl,
  withTraceUrl,
} from '../format.js';
import { parseWholeNumber } from '../numbers.js';
import { openCliReading } from '../open-cli-store.js';
import { rowProgress } from '../progress.js';

/** `aitrail logs`: every matching row, streamed page by page (keyset), no cap unless `--limit`. */
export const command: CliCommand = defineCommand({
  name: 'logs',
  summary: 'List audit rows matching filters, streamed with no cap (newest first by default)',
  details:
    'Rows stream page by page on the unique order (occurred_at, id); --limit stops early.\nJAEGER_UI_URL sets the trace link (default http://localhost:16686 when traces are exported).',
  flags: {
    ...FILTER_FLAGS,
    order: {
      type: 'string',
      valueName: 'ORDER',
      choices: ['desc', 'asc'],
      default: 'desc',
      description: 'desc (newest first) or asc (oldest first)',
    },
    limit: { type: 'string', valueName: 'N', description: 'stop after N rows (default: all)' },
    'include-reads': {
      type: 'boolean',
      description:
        'include audit.read rows (who read the trail); --action audit.read shows only them',
    },
    format: formatFlag(ROW_FORMATS),
    reader: READER_FLAG,
    'database-url': DATABASE_URL_FLAG,
  },
  async run({ flags, io }) {
    const filter = filterFromFlags(flags);
    filter.order = flags.order === 'asc' ? 'asc' : 'desc';
    if (flags['include-reads']) filter.includeReads = true;
    if (flags.limit !== undefined)
      filter.limit = parseWholeNumber('--limit', flags.limit, { min: 1 });
    const { store, read, close } = await openCliReading(
      flags['database-url'],
      io.env,
      flags.reader,
    );
    try {
      const jaeger = traceUiUrl(io.env);
      const printer = createRowPrinter({
        format: flags.format as OutputFormat,
        out: io.out,
        table: ENTRY_TABLE,
        csv: ENTRY_CSV,
        empty: '(no audit rows match)',
      });
      const progress = rowProgress(io.out, io.err, 'aitrail logs');
      const rows = (async function* () {
        for await (const entry of streamAuditLogs(store, filter, read))
          yield withTraceUrl(entry, jaeger);
      })();
      await printAll(rows, printer, io.out, progress.update);
      progress.done();
    } finally {
      await close();
    }
  },
});
