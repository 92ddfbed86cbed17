import type { Readable } from 'node:stream';
import type { AuditStore } from '../audit-store.js';
import { LINE_COLUMNS, LINE_SELECT, lineField } from './copy-line.js';

const NEWLINE = 0x0a;
const TAB = 0x09;

export interface ChainLinesOptions {
  chainId: string;
  /** Rows with `chain_seq` above this… */
  afterSeq: number;
  /** …up to this one (inclusive); null: to the end. */
  throughSeq: number | null;
  /** Rows per statement: each page is a keyset query the planner answers from the chain index. */
  pageRows: number;
  /** Called once per row, in sequence order, with its COPY text line (valid during the call only). */
  onLine: (line: Buffer) => void;
}

/**
 * Reads one chain's rows in sequence order as COPY text lines (`copy-line.ts`), streamed where the
 * store can (`copyOut`: the database and the verifier work at the same time, memory stays at a
 * socket buffer), in pages through `query` where it cannot.
 */
export async function readChainLines(store: AuditStore, options: ChainLinesOptions): Promise<void> {
  const { pageRows, throughSeq } = options;
  let after = options.afterSeq;
  for (;;) {
    if (throughSeq !== null && after >= throughSeq) return;
    const page = store.copyOut
      ? await copyPage(store, options, after)
      : await queryPage(store, options, after);
    // A database that returns rows out of order cannot make this loop forever: it only moves on.
    if (page.rows < pageRows || page.lastSeq <= after) return;
    after = page.lastSeq;
  }
}

interface Page {
  rows: number;
  lastSeq: number;
}

/** `chain_id` spelled so that no string-literal setting of the server can change its meaning. */
function chainIdLiteral(chainId: string): string {
  return `convert_from(decode('${Buffer.from(chainId, 'utf8').toString('hex')}', 'hex'), 'UTF8')`;
}

function pageStatement(options: ChainLinesOptions, after: number): string {
  const through = options.throughSeq === null ? '' : ` AND chain_seq <= ${options.throughSeq}`;
  return `SELECT ${LINE_SELECT} FROM audit_logs WHERE chain_id = ${chainIdLiteral(options.chainId)} AND chain_seq > ${after}${through} ORDER BY chain_seq LIMIT ${options.pageRows}`;
}

async function copyPage(
  store: AuditStore,
  options: ChainLinesOptions,
  after: number,
): Promise<Page> {
  const stream = (await store.copyOut?.(
    `COPY (${pageStatement(options, after)}) TO STDOUT`,
  )) as Readable;
  let rows = 0;
  let last: Buffer | null = null;
  let carry: Buffer | null = null;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (carry !== null) {
        data = Buffer.concat([carry, chunk]);
        carry = null;
      }
      let start = 0;
      for (;;) {
        const newline = data.indexOf(NEWLINE, start);
        if (newline < 0) break;
        const line = data.subarray(start, newline + 1);
        rows += 1;
        last = line;
        try {
          options.onLine(line);
        } catch (error) {
          stream.destroy();
          reject(error);
          return;
        }
        start = newline + 1;
      }
      if (start < data.length) carry = Buffer.from(data.subarray(start));
    });
    stream.once('error', reject);
    stream.once('end', resolve);
  });
  if (carry !== null) throw new Error('COPY output ended inside a line');
  return { rows, lastSeq: last === null ? after : seqOfLine(last) };
}

const SEQ_FIELD = lineField('chain_seq');

function seqOfLine(line: Buffer): number {
  let start = 0;
  for (let field = 0; field < SEQ_FIELD; field++) start = line.indexOf(TAB, start) + 1;
  const end = line.indexOf(TAB, start);
  const seq = Number(line.toString('latin1', start, end));
  return Number.isSafeInteger(seq) ? seq : Number.NEGATIVE_INFINITY;
}

type Field = string | number | bigint | null | undefined;

/** The embedded store answers queries only: each page's rows are written as the COPY lines would be. */
async function queryPage(
  store: AuditStore,
  options: ChainLinesOptions,
  after: number,
): Promise<Page> {
  const through = options.throughSeq === null ? '' : ' AND chain_seq <= $3';
  const rows = await store.query<Record<string, Field>>(
    `SELECT ${LINE_SELECT} FROM audit_logs WHERE chain_id = $1 AND chain_seq > $2${through} ORDER BY chain_seq LIMIT ${options.pageRows}`,
    options.throughSeq === null
      ? [options.chainId, after]
      : [options.chainId, after, options.throughSeq],
  );
  let lastSeq = after;
  for (const row of rows) {
    const fields = [row.prev_hash, ...LINE_COLUMNS.map((c) => row[c.column]), row.hash];
    options.onLine(Buffer.from(`${fields.map(copyField).join('\t')}\n`, 'utf8'));
    lastSeq = Number(row.chain_seq);
  }
  return { rows: rows.length, lastSeq };
}

const COPY_SPECIAL = /[\\\n\r\t\b\f\v]/g;
const COPY_ESCAPE: Record<string, string> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
  '\v': '\\v',
};

function copyField(value: Field): string {
  if (value === null || value === undefined) return '\\N';
  return String(value).replace(COPY_SPECIAL, (c) => COPY_ESCAPE[c] as string);
}
