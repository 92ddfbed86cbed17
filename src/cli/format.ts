import type { AuditLogEntry } from '../store/queries.js';

export const OUTPUT_FORMATS = ['table', 'json', 'ndjson', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** A row as the CLI prints it: the entry plus the link to its trace. */
export type PrintedEntry = AuditLogEntry & { traceUrl?: string };

/**
 * Where a trace can be looked at: `JAEGER_UI_URL`, or the local Jaeger of the compose stack when
 * traces are exported (an OTLP endpoint is configured); null when no trace leaves the process,
 * so no link points at nothing.
 */
export function traceUiUrl(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.JAEGER_UI_URL) return env.JAEGER_UI_URL;
  const exported = env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  return exported ? 'http://localhost:16686' : null;
}

export function withTraceUrl(entry: AuditLogEntry, jaegerUiUrl: string | null): PrintedEntry {
  if (jaegerUiUrl === null) return entry;
  return { ...entry, traceUrl: `${jaegerUiUrl.replace(/\/+$/, '')}/trace/${entry.traceId}` };
}

const CSV_COLUMNS: Array<keyof PrintedEntry> = [
  'occurredAt',
  'eventId',
  'tenantId',
  'actorType',
  'actorId',
  'action',
  'outcome',
  'resourceType',
  'resourceId',
  'conversationId',
  'taskId',
  'agentName',
  'toolName',
  'approvalId',
  'traceId',
  'spanId',
  'serviceName',
  'traceUrl',
  'metadata',
];

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  // A leading = + - @ would run as a formula in a spreadsheet; quote-prefix it.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const CONTROL = /[\p{Cc}\u2028\u2029]/gu;

/**
 * Text safe to print on a terminal: control characters (newlines, ANSI and OSC escapes) shown
 * as `\u001b`-style escapes, so a stored value can neither forge a row nor drive the terminal.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

function table(rows: PrintedEntry[]): string {
  const header = [
    'OCCURRED AT (UTC)',
    'TENANT',
    'ACTOR',
    'ACTION',
    'OUTCOME',
    'AGENT / TOOL',
    'TRACE',
  ];
  const body = rows.map((r) =>
    [
      r.occurredAt.replace('T', ' ').slice(0, 23),
      r.tenantId ?? '-',
      `${r.actorType}:${r.actorId}`,
      r.action,
      r.outcome,
      [r.agentName, r.toolName].filter(Boolean).join(' / ') || '-',
      r.traceUrl ?? r.traceId,
    ].map(printable),
  );
  const widths = header.map((h, i) =>
    Math.min(48, Math.max(h.length, ...body.map((cells) => (cells[i] as string).length))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        i === cells.length - 1 ? c : truncate(c, widths[i] as number).padEnd(widths[i] as number),
      )
      .join('  ');
  return [line(header), ...body.map(line)].join('\n');
}

/** Renders rows; json/ndjson/csv are for machines, table for people. */
export function formatEntries(rows: PrintedEntry[], format: OutputFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(rows, null, 2);
    case 'ndjson':
      return rows.map((r) => JSON.stringify(r)).join('\n');
    case 'csv':
      return [
        CSV_COLUMNS.join(','),
        ...rows.map((r) => CSV_COLUMNS.map((c) => csvCell(r[c])).join(',')),
      ].join('\n');
    case 'table':
      return rows.length === 0 ? '(no audit rows match)' : table(rows);
  }
}
