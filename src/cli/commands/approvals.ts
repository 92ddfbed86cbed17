import {
  APPROVAL_GROUPINGS,
  APPROVAL_STATUSES,
  type ApprovalGrouping,
  type ApprovalRequest,
  type ApprovalRequestStatus,
  type ApprovalSummary,
  listApprovals,
  summarizeApprovals,
} from '../../store/queries/approvals.js';
import {
  type CliCommand,
  DATABASE_URL_FLAG,
  defineCommand,
  formatFlag,
  READER_FLAG,
  ROW_FORMATS,
} from '../command.js';
import { type Column, createRowPrinter, type OutputFormat } from '../format.js';
import { openCliReading } from '../open-cli-store.js';
import { parseTimeBound, parseTimeRange } from '../time-bound.js';
import { UsageError } from '../usage-error.js';

function duration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}

const REQUEST_TABLE: Column<ApprovalRequest>[] = [
  { header: 'APPROVAL', width: 16, get: (r) => r.approvalId },
  { header: 'STATUS', width: 8, get: (r) => r.status },
  { header: 'TENANT', width: 10, get: (r) => r.tenantId },
  { header: 'TOOL', width: 18, get: (r) => r.toolName },
  {
    header: 'REQUESTED (UTC)',
    width: 19,
    get: (r) => r.requestedAt?.slice(0, 19).replace('T', ' '),
  },
  { header: 'GROUP', width: 16, get: (r) => r.approverGroup },
  { header: 'APPROVER', width: 20, get: (r) => r.approver },
  { header: 'DECIDED IN', width: 10, get: (r) => duration(r.timeToDecisionMs) },
  { header: 'GATED CALL', get: (r) => r.gatedCall?.eventId ?? '(none)' },
];

const REQUEST_CSV: Column<ApprovalRequest>[] = (
  [
    'approvalId',
    'status',
    'tenantId',
    'toolName',
    'requestedBy',
    'requestedAt',
    'approverGroup',
    'assignee',
    'approver',
    'decidedAt',
    'timeToDecisionMs',
    'reason',
    'conversationId',
  ] as const
).map((k) => ({ header: k, get: (r: ApprovalRequest) => r[k] }));

/** `aitrail approvals`: each request's status, approver, group, gated call and time to decision. */
export const command: CliCommand = defineCommand({
  name: 'approvals',
  summary: 'List approval requests with status, approver, group, gated tool call and decision time',
  details:
    'Requests are linked by approval id (recordApproval and traceToolCall({ approvalId })).\nExample: aitrail approvals --overdue 24h --status overdue --group-by group',
  flags: {
    status: {
      type: 'string',
      valueName: 'STATUS',
      choices: APPROVAL_STATUSES,
      description: 'only requests with this status (overdue needs --overdue)',
    },
    overdue: {
      type: 'string',
      valueName: 'DURATION',
      description: 'undecided requests older than this (e.g. 24h) are overdue',
    },
    'group-by': {
      type: 'string',
      valueName: 'KEY',
      choices: APPROVAL_GROUPINGS,
      description: 'summarize per tool, approver, approver group or tenant',
    },
    tenant: { type: 'string', valueName: 'T', description: 'only this tenant' },
    tool: { type: 'string', valueName: 'NAME', description: 'only requests for this tool' },
    approval: { type: 'string', valueName: 'ID', description: 'only this approval id' },
    since: {
      type: 'string',
      valueName: '7d|DATE|MONTH|ISO',
      description: 'requested from this time on',
    },
    until: {
      type: 'string',
      valueName: 'DATE|MONTH|ISO',
      description: 'requested up to this time',
    },
    format: formatFlag(ROW_FORMATS),
    reader: READER_FLAG,
    'database-url': DATABASE_URL_FLAG,
  },
  async run({ flags, io }) {
    const now = Date.now();
    let overdueAfterMs: number | undefined;
    if (flags.overdue !== undefined) {
      if (!/^\d+[smhdw]$/.test(flags.overdue))
        throw new UsageError(
          `--overdue expects a duration like 24h or 3d, got "${flags.overdue.slice(0, 40)}"`,
        );
      overdueAfterMs = now - Date.parse(parseTimeBound('--overdue', flags.overdue, now).start);
    }
    if (flags.status === 'overdue' && overdueAfterMs === undefined)
      throw new UsageError('--status overdue needs --overdue DURATION (the deadline)');
    const range = parseTimeRange({ since: flags.since, until: flags.until }, now);
    const { store, read, close } = await openCliReading(
      flags['database-url'],
      io.env,
      flags.reader,
    );
    try {
      const requests = await listApprovals(store, {
        tenantId: flags.tenant,
        toolName: flags.tool,
        approvalId: flags.approval,
        status: flags.status as ApprovalRequestStatus | undefined,
        overdueAfterMs,
        since: range.since,
        before: range.before ?? (range.until ? new Date(Date.parse(range.until) + 1) : undefined),
        now: new Date(now),
        ...read,
      });
      const format = flags.format as OutputFormat;
      if (flags['group-by'] !== undefined) {
        const by = flags['group-by'] as ApprovalGrouping;
        const columns: Column<ApprovalSummary>[] = [
          { header: by.toUpperCase(), width: 24, get: (s) => s.key },
          ...(
            [
              'total',
              'pending',
              'approved',
              'rejected',
              'expired',
              'overdue',
              'linkedCalls',
            ] as const
          ).map((k) => ({
            header: k.toUpperCase(),
            width: k === 'linkedCalls' ? 11 : 8,
            get: (s: ApprovalSummary) => s[k],
          })),
          { header: 'MEDIAN', width: 8, get: (s) => duration(s.medianDecisionMs) },
          { header: 'MAX', get: (s) => duration(s.maxDecisionMs) },
        ];
        const printer = createRowPrinter({
          format,
          out: io.out,
          table: columns,
          csv: (Object.keys(emptySummary()) as Array<keyof ApprovalSummary>).map((k) => ({
            header: k,
            get: (s: ApprovalSummary) => s[k],
          })),
          empty: '(no approval requests match)',
        });
        for (const row of summarizeApprovals(requests, by)) printer.row(row);
        printer.end();
        return;
      }
      const printer = createRowPrinter({
        format,
        out: io.out,
        table: REQUEST_TABLE,
        csv: [...REQUEST_CSV, { header: 'gatedCallEventId', get: (r) => r.gatedCall?.eventId }],
        empty: '(no approval requests match)',
      });
      for (const request of requests) printer.row(request);
      printer.end();
    } finally {
      await close();
    }
  },
});

function emptySummary(): ApprovalSummary {
  return {
    key: null,
    total: 0,
    pending: 0,
    approved: 0,
    rejected: 0,
    expired: 0,
    overdue: 0,
    linkedCalls: 0,
    medianDecisionMs: null,
    maxDecisionMs: null,
  };
}
