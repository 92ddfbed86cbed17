import type { Readable } from 'node:stream';
import type { AuditStore } from '../audit-store.js';
import { BinaryRowSplitter, ROW_COLUMNS_V2, ROW_SELECT, rowIdentity } from './verify-row.js';

export interface ChainRowsOptions {
  chainId: string;
  /** Rows with `chain_seq` above this… */
  afterSeq: number;
  /** …up to this one (inclusive); null: to the end. */
  throughSeq: number | null;
  /** Rows per statement: each page is a keyset query the planner answers from the chain index. */
  pageRows: number;
  /**
   * Called once per row, in sequence order, with its binary COPY tuple (`verify-row.ts`): a view
   * into the stream's own buffers, which are not reused.
   */
  onRow: (row: Buffer) => void;
}

/**
 * Reads one chain's rows in sequence order as binary COPY tuples, streamed where the store can
 * (`copyOut`: the database and the verifier work at the same time, memory stays at a socket
 * buffer), in pages through `query` where it cannot.
 */
export async function readChainRows(store: RowSource, options: ChainRowsOptions): Promise<void> {
  const { pageRows, throughSeq } = options;
  let after = options.afterSeq;
  for (;;) {
    if (throughSeq !== null && after >= throughSeq) return;
    const page = store.copyOut
      ? await copyPage(store, options, after)
      : await queryPage(store, options, after);
    // A database that returns rows out of order cannot make this loop forever: it only moves on.
    if (page.rows < pageRows || !(page.lastSeq > after)) return;
    after = page.lastSeq;
  }
}

/** What reading rows needs of a store (a walk thread has a connection, not a whole store). */
export type RowSource = Pick<AuditStore, 'copyOut' | 'query'>;

interface Page {
  rows: number;
  lastSeq: number;
}

/**
 * `chain_id` as a literal COPY can take (it takes no parameters): dollar-quoted, with a quote the
 * id does not contain, so neither the id (a writer may pick any) nor a string-literal setting of
 * the server can change the statement. A plain constant, so the planner uses the chain index.
 */
export function chainIdLiteral(chainId: string): string {
  let quote = '$chain$';
  // The literal ends at the first quote after its start: that must be the closing one.
  for (let n = 0; `${chainId}${quote}`.indexOf(quote) !== chainId.length; n++)
    quote = `$chain${n}$`;
  return `${quote}${chainId}${quote}`;
}

async function copyPage(store: RowSource, options: ChainRowsOptions, after: number): Promise<Page> {
  const through = options.throughSeq === null ? '' : ` AND chain_seq <= ${options.throughSeq}`;
  const statement = `COPY (SELECT ${ROW_SELECT} FROM audit_logs WHERE chain_id = ${chainIdLiteral(options.chainId)} AND chain_seq > ${after}${through} ORDER BY audit_logs.chain_seq LIMIT ${options.pageRows}) TO STDOUT (FORMAT binary)`;
  const stream = (await store.copyOut?.(statement)) as Readable;
  let rows = 0;
  let last: Buffer | null = null;
  const splitter = new BinaryRowSplitter((row) => {
    rows += 1;
    last = row;
    options.onRow(row);
  });
  await new Promise<void>((resolve, reject) => {
    const stop = (error: unknown) => {
      stream.destroy();
      reject(error);
    };
    stream.on('data', (chunk: Buffer) => {
      try {
        splitter.push(chunk);
      } catch (error) {
        stop(error);
      }
    });
    stream.once('error', reject);
    stream.once('end', resolve);
  });
  if (!splitter.ended || splitter.pending) throw new Error('COPY output ended inside a row');
  return { rows, lastSeq: last === null ? after : rowIdentity(last).seq };
}

type Value = string | number | bigint | null | undefined;

/**
 * The embedded store answers queries only: each page's rows are written as the tuples binary
 * COPY would give, from their text forms.
 */
async function queryPage(
  store: RowSource,
  options: ChainRowsOptions,
  after: number,
): Promise<Page> {
  const through = options.throughSeq === null ? '' : ' AND chain_seq <= $3';
  const rows = await store.query<Record<string, Value>>(
    `SELECT ${TEXT_SELECT} FROM audit_logs WHERE chain_id = $1 AND chain_seq > $2${through} ORDER BY audit_logs.chain_seq LIMIT ${options.pageRows}`,
    options.throughSeq === null
      ? [options.chainId, after]
      : [options.chainId, after, options.throughSeq],
  );
  let lastSeq = after;
  for (const row of rows) {
    options.onRow(tupleOf(row));
    lastSeq = Number(row.chain_seq);
  }
  return { rows: rows.length, lastSeq };
}

/** The verify row's columns as text (epoch microseconds for times), for `tupleOf`. */
const TEXT_SELECT = [
  'prev_hash::text AS prev_hash',
  ...ROW_COLUMNS_V2.map((c) =>
    c.sqlType === 'timestamptz'
      ? `(extract(epoch FROM ${c.column}) * 1000000)::int8::text AS ${c.column}`
      : `${c.column}::text AS ${c.column}`,
  ),
  'hash::text AS hash',
].join(', ');

const POSTGRES_EPOCH_MICROS = 946_684_800_000_000n;

function tupleOf(row: Record<string, Value>): Buffer {
  const fields: Array<Buffer | null> = [text(row.prev_hash)];
  for (const column of ROW_COLUMNS_V2) {
    const value = row[column.column];
    if (value === null || value === undefined) {
      fields.push(null);
      continue;
    }
    switch (column.sqlType) {
      case 'uuid':
        fields.push(Buffer.from(String(value).replaceAll('-', ''), 'hex'));
        break;
      case 'timestamptz':
        fields.push(int64(BigInt(String(value)) - POSTGRES_EPOCH_MICROS));
        break;
      case 'int8':
        fields.push(int64(BigInt(String(value))));
        break;
      case 'jsonb':
        fields.push(Buffer.concat([Buffer.from([1]), Buffer.from(String(value), 'utf8')]));
        break;
      default:
        fields.push(text(value));
    }
  }
  fields.push(text(row.hash));
  const parts: Buffer[] = [Buffer.from([fields.length >> 8, fields.length & 0xff])];
  for (const field of fields) {
    const length = Buffer.alloc(4);
    length.writeInt32BE(field === null ? -1 : field.length);
    parts.push(length);
    if (field !== null) parts.push(field);
  }
  return Buffer.concat(parts);
}

function text(value: Value): Buffer | null {
  return value === null || value === undefined ? null : Buffer.from(String(value), 'utf8');
}

function int64(value: bigint): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(value);
  return buffer;
}
