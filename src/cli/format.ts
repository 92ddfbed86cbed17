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

/** One printed column: a header, how to read it from a row, and (table) a width. */
export interface Column<R> {
  header: string;
  get(row: R): unknown;
  /** Table width; the last column is never cut. */
  width?: number;
}

export function csvCell(value: unknown): string {
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

function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  return printable(typeof value === 'object' ? JSON.stringify(value) : String(value));
}

/** Writes rows as they come: nothing is held back, so an export of any size streams. */
export interface RowPrinter<R> {
  /** False when the stream's buffer is full: wait for `drain` (see `writeAll`). */
  row(row: R): boolean;
  /** Closes the output (the JSON array's bracket, the empty-table note). */
  end(): void;
}

export interface RowPrinterOptions<R> {
  format: OutputFormat;
  out: NodeJS.WritableStream;
  table: Column<R>[];
  /** Every field for machines; default the table columns. */
  csv?: Column<R>[];
  /** What the table says when no row matched. */
  empty?: string;
  /** The JSON form of a row; default the row itself. */
  json?: (row: R) => unknown;
}

export function createRowPrinter<R>(options: RowPrinterOptions<R>): RowPrinter<R> {
  const { format, out } = options;
  const json = options.json ?? ((row: R) => row);
  let count = 0;
  let ok = true;
  const write = (text: string) => {
    ok = out.write(text);
  };
  const tableLine = (cells: string[]) =>
    cells
      .map((c, i) => {
        const width = options.table[i]?.width ?? 24;
        return i === cells.length - 1 ? c : truncate(c, width).padEnd(width);
      })
      .join('  ');
  const csvColumns = options.csv ?? options.table;
  return {
    row(row) {
      ok = true;
      switch (format) {
        case 'json':
          write(`${count === 0 ? '[\n' : ',\n'}${JSON.stringify(json(row))}`);
          break;
        case 'ndjson':
          write(`${JSON.stringify(json(row))}\n`);
          break;
        case 'csv':
          if (count === 0) write(`${csvColumns.map((c) => csvCell(c.header)).join(',')}\n`);
          write(`${csvColumns.map((c) => csvCell(c.get(row))).join(',')}\n`);
          break;
        case 'table':
          if (count === 0) write(`${tableLine(options.table.map((c) => c.header))}\n`);
          write(`${tableLine(options.table.map((c) => cellText(c.get(row))))}\n`);
          break;
      }
      count++;
      return ok;
    },
    end() {
      if (format === 'json') out.write(count === 0 ? '[]\n' : '\n]\n');
      if (format === 'csv' && count === 0)
        out.write(`${csvColumns.map((c) => csvCell(c.header)).join(',')}\n`);
      if (format === 'table' && count === 0) out.write(`${options.empty ?? '(no rows)'}\n`);
    },
  };
}

function detail(row: PrintedEntry): string {
  const m = row.metadata ?? {};
  const parts: string[] = [];
  if (m.toolParams !== undefined) parts.push(`params=${JSON.stringify(m.toolParams)}`);
  if (m.toolResult !== undefined) parts.push(`result=${JSON.stringify(m.toolResult)}`);
  if (m.approverId !== undefined)
    parts.push(`approver=${m.approverType ? `${m.approverType}:` : ''}${m.approverId}`);
  if (m.approverGroup !== undefined) parts.push(`group=${m.approverGroup}`);
  if (m.handoffTo !== undefined) parts.push(`handoff=${m.handoffFrom ?? '?'}→${m.handoffTo}`);
  if (m.reason !== undefined) parts.push(`reason=${JSON.stringify(m.reason)}`);
  if (m.error !== undefined)
    parts.push(`error=${[m.error.type, m.error.message].filter(Boolean).join(': ')}`);
  return parts.join(' ');
}

export const ENTRY_TABLE: Column<PrintedEntry>[] = [
  {
    header: 'OCCURRED AT (UTC)',
    width: 26,
    get: (r) => r.occurredAt.replace('T', ' ').replace('Z', ''),
  },
  { header: 'TENANT', width: 10, get: (r) => r.tenantId },
  { header: 'ACTOR', width: 20, get: (r) => `${r.actorType}:${r.actorId}` },
  { header: 'ACTION', width: 20, get: (r) => r.action },
  { header: 'OUTCOME', width: 7, get: (r) => r.outcome },
  {
    header: 'AGENT / TOOL',
    width: 32,
    get: (r) => [r.agentName, r.toolName].filter(Boolean).join(' / '),
  },
  { header: 'APPROVAL', width: 12, get: (r) => r.approvalId },
  { header: 'DETAIL', width: 60, get: detail },
  { header: 'TRACE', get: (r) => r.traceUrl },
];

/** Every stored column, in table order, then the trace link. */
export const ENTRY_CSV: Column<PrintedEntry>[] = (
  [
    'id',
    'eventId',
    'occurredAt',
    'recordedAt',
    'tenantId',
    'actorType',
    'actorId',
    'subjectId',
    'action',
    'outcome',
    'resourceType',
    'resourceId',
    'conversationId',
    'taskId',
    'agentName',
    'toolName',
    'approvalId',
    'metadata',
    'traceId',
    'spanId',
    'serviceName',
    'chainId',
    'chainSeq',
    'prevHash',
    'hash',
    'traceUrl',
  ] as const
).map((key) => ({ header: key, get: (r: PrintedEntry) => r[key] }));

/** Prints every row of an async source, waiting for the stream to drain when it is full. */
export async function printAll<R>(
  rows: AsyncIterable<R>,
  printer: RowPrinter<R>,
  out: NodeJS.WritableStream,
  onRow?: (count: number) => void,
): Promise<number> {
  let count = 0;
  for await (const row of rows) {
    const ok = printer.row(row);
    onRow?.(++count);
    if (!ok) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  printer.end();
  return count;
}

/** Renders rows at once (the demo's short listing). */
export function formatEntries(rows: PrintedEntry[], format: OutputFormat): string {
  let text = '';
  const out = {
    write(chunk: string) {
      text += chunk;
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const printer = createRowPrinter({
    format,
    out,
    table: ENTRY_TABLE,
    csv: ENTRY_CSV,
    empty: '(no audit rows match)',
  });
  for (const row of rows) printer.row(row);
  printer.end();
  return text.replace(/\n$/, '');
}
