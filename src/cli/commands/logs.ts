import { parseArgs } from 'node:util';
import { type AuditLogFilter, MAX_QUERY_LIMIT, queryAuditLogs } from '../../store/queries.js';
import {
  formatEntries,
  OUTPUT_FORMATS,
  type OutputFormat,
  traceUiUrl,
  withTraceUrl,
} from '../format.js';
import { openCliStore } from '../open-cli-store.js';
import { parseTimeBound } from '../time-bound.js';
import { UsageError } from '../usage-error.js';

export const LOGS_USAGE = `aitrail logs [--action A] [--actor ID] [--tenant T] [--conversation C] [--trace T]
             [--since 24h|ISO] [--until ISO] [--limit N] [--format table|json|ndjson|csv]
             [--database-url URL]`;

export async function logsCommand(
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      action: { type: 'string', multiple: true },
      actor: { type: 'string' },
      tenant: { type: 'string' },
      conversation: { type: 'string' },
      trace: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string' },
      format: { type: 'string' },
      'database-url': { type: 'string' },
    },
  });
  const format = (values.format ?? 'table') as OutputFormat;
  if (!OUTPUT_FORMATS.includes(format)) {
    throw new UsageError(
      `--format must be one of ${OUTPUT_FORMATS.join(', ')}, got "${values.format}"`,
    );
  }
  const filter: AuditLogFilter = { limit: 100 };
  if (values.limit !== undefined) {
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) {
      throw new UsageError(
        `--limit must be a whole number from 1 to ${MAX_QUERY_LIMIT}, got "${values.limit}"`,
      );
    }
    filter.limit = limit;
  }
  if (values.trace !== undefined && !/^[0-9a-fA-F]{32}$/.test(values.trace)) {
    throw new UsageError(`--trace expects a 32-character hex trace id, got "${values.trace}"`);
  }
  if (values.action) filter.action = values.action;
  if (values.actor !== undefined) filter.actorId = values.actor;
  if (values.tenant !== undefined) filter.tenantId = values.tenant;
  if (values.conversation !== undefined) filter.conversationId = values.conversation;
  if (values.trace !== undefined) filter.traceId = values.trace;
  if (values.since !== undefined) filter.since = parseTimeBound('--since', values.since);
  if (values.until !== undefined) filter.until = parseTimeBound('--until', values.until);

  const store = await openCliStore(values['database-url']);
  try {
    const entries = await queryAuditLogs(store, filter);
    const jaeger = traceUiUrl();
    out.write(
      `${formatEntries(
        entries.map((e) => withTraceUrl(e, jaeger)),
        format,
      )}\n`,
    );
    if (entries.length === filter.limit) {
      err.write(
        `aitrail: showing the ${entries.length} newest matching rows; narrow the filters or raise --limit (at most ${MAX_QUERY_LIMIT})\n`,
      );
    }
  } finally {
    await store.close();
  }
}
