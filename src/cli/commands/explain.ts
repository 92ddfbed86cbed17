import {
  type Explanation,
  explainDecisions,
  type TimelineStep,
} from '../../store/queries/explain.js';
import {
  type CliCommand,
  DATABASE_URL_FLAG,
  defineCommand,
  formatFlag,
  READER_FLAG,
} from '../command.js';
import { type Column, createRowPrinter, printable } from '../format.js';
import { openCliReading } from '../open-cli-store.js';
import { UsageError } from '../usage-error.js';

function detail(step: TimelineStep): string {
  const parts: string[] = [];
  if (step.params !== undefined) parts.push(`params=${JSON.stringify(step.params)}`);
  if (step.result !== undefined) parts.push(`result=${JSON.stringify(step.result)}`);
  if (step.approval?.gatedCallEventId) parts.push(`gated=${step.approval.gatedCallEventId}`);
  if (step.error)
    parts.push(`error=${[step.error.type, step.error.message].filter(Boolean).join(': ')}`);
  return parts.join(' ');
}

const STEP_TABLE: Column<TimelineStep>[] = [
  {
    header: 'OCCURRED AT (UTC)',
    width: 26,
    get: (s) => s.occurredAt.replace('T', ' ').replace('Z', ''),
  },
  { header: 'KIND', width: 15, get: (s) => s.kind },
  { header: 'ACTOR', width: 20, get: (s) => s.actor },
  { header: 'AGENT', width: 14, get: (s) => s.agentName },
  { header: 'OUTCOME', width: 7, get: (s) => s.outcome },
  { header: 'WHAT HAPPENED', width: 56, get: (s) => s.summary },
  { header: 'DETAIL', get: detail },
];

function mdCell(text: string): string {
  return printable(text).replaceAll('|', '\\|');
}

/** A Markdown explanation a person can keep: scope, outcome, then the numbered timeline. */
export function renderMarkdown(explanation: Explanation): string {
  const [kind, id] = Object.entries(explanation.scope)[0] ?? ['scope', '?'];
  const lines = [
    `# Decision timeline: ${mdCell(kind)} \`${mdCell(String(id))}\``,
    '',
    `- Tenant: ${explanation.tenantId ?? '-'}`,
    `- Steps: ${explanation.steps.length}`,
    `- Final outcome: ${explanation.outcome ?? '-'}`,
    '',
    '| # | Time (UTC) | Kind | Actor | Agent | Outcome | What happened | Detail |',
    '|---|---|---|---|---|---|---|---|',
  ];
  explanation.steps.forEach((s, i) => {
    lines.push(
      `| ${i + 1} | ${s.occurredAt} | ${s.kind} | ${mdCell(s.actor)} | ${mdCell(s.agentName ?? '-')} | ${s.outcome} | ${mdCell(s.summary)} | ${mdCell(detail(s)) || '-'} |`,
    );
  });
  return `${lines.join('\n')}\n`;
}

/** `aitrail explain --conversation C`: the decision timeline, for an Art. 22 / Art. 86 explanation. */
export const command: CliCommand = defineCommand({
  name: 'explain',
  summary: 'Explain one conversation, trace or task: the decision timeline in order',
  details:
    'Messages and models, tool calls with sanitized params and results, handoffs with reasons,\napprovals with approver and the call they gated, budget/rate-limit/guardrail stops, outcomes.',
  flags: {
    conversation: { type: 'string', valueName: 'C', description: 'the conversation to explain' },
    trace: { type: 'string', valueName: 'TRACE_ID', description: 'the trace to explain (32 hex)' },
    task: { type: 'string', valueName: 'ID', description: 'the background task to explain' },
    tenant: { type: 'string', valueName: 'T', description: 'the tenant (also sets it for RLS)' },
    format: formatFlag(['table', 'json', 'ndjson', 'csv', 'md'] as const),
    reader: READER_FLAG,
    'database-url': DATABASE_URL_FLAG,
  },
  async run({ flags, io }) {
    const given = [flags.conversation, flags.trace, flags.task].filter((v) => v !== undefined);
    if (given.length !== 1)
      throw new UsageError('explain needs exactly one of --conversation, --trace, --task');
    if (flags.trace !== undefined && !/^[0-9a-fA-F]{32}$/.test(flags.trace))
      throw new UsageError(
        `--trace expects a 32-character hex trace id, got "${flags.trace.slice(0, 40)}"`,
      );
    const { store, read, close } = await openCliReading(
      flags['database-url'],
      io.env,
      flags.reader,
    );
    try {
      const explanation = await explainDecisions(store, {
        conversationId: flags.conversation,
        traceId: flags.trace,
        taskId: flags.task,
        tenantId: flags.tenant,
        ...read,
      });
      if (flags.format === 'md') {
        io.out.write(renderMarkdown(explanation));
        return;
      }
      if (flags.format === 'json') {
        io.out.write(`${JSON.stringify(explanation, null, 2)}\n`);
        return;
      }
      const printer = createRowPrinter({
        format: flags.format as 'table' | 'ndjson' | 'csv',
        out: io.out,
        table: STEP_TABLE,
        csv: [
          ...STEP_TABLE.slice(0, 6).map((c) => ({ ...c, header: c.header.toLowerCase() })),
          { header: 'params', get: (s: TimelineStep) => s.params },
          { header: 'result', get: (s: TimelineStep) => s.result },
          { header: 'approval', get: (s: TimelineStep) => s.approval },
          { header: 'handoff', get: (s: TimelineStep) => s.handoff },
          { header: 'error', get: (s: TimelineStep) => s.error },
          { header: 'eventId', get: (s: TimelineStep) => s.eventId },
        ],
        empty: '(nothing recorded for this scope)',
      });
      for (const step of explanation.steps) printer.row(step);
      printer.end();
    } finally {
      await close();
    }
  },
});
