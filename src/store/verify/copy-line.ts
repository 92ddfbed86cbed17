import {
  canonicalColumns,
  type HashedColumn,
  type HashVersion,
  selectExpression,
} from '../hashed-columns.js';
import type { RowForVerify } from './rows.js';

/**
 * How verify reads rows: one COPY text line per row, `prev_hash`, then the hashed columns in
 * canonical order (version 2, the superset), then `hash`. Keeping the canonical order on the
 * wire lets a row's canonical JSON be written in one pass over its line.
 */
export const LINE_COLUMNS: readonly HashedColumn[] = canonicalColumns(2);
export const PREV_HASH_FIELD = 0;
export const HASH_FIELD = LINE_COLUMNS.length + 1;
export const LINE_FIELDS = LINE_COLUMNS.length + 2;

/** The SELECT list of a verify line, derived from the hashed-columns declaration. */
export const LINE_SELECT = ['prev_hash', ...LINE_COLUMNS.map(selectExpression), 'hash'].join(', ');

/** Index in a line of a hashed column. */
export function lineField(column: HashedColumn['column']): number {
  const index = LINE_COLUMNS.findIndex((c) => c.column === column);
  if (index < 0) throw new TypeError(`no hashed column ${column}`);
  return index + 1;
}

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

/** COPY text-format escapes (what `COPY … TO` writes) and the bytes they stand for. */
export const COPY_ESCAPES: Readonly<Record<number, number>> = {
  92: 0x5c,
  98: 0x08, // \b
  102: 0x0c, // \f
  110: 0x0a, // \n
  114: 0x0d, // \r
  116: 0x09, // \t
  118: 0x0b, // \v
};

/** The fields of one COPY text line as strings (null for `\N`); the slow, general path. */
export function splitLine(line: Uint8Array): Array<string | null> {
  const fields: Array<string | null> = [];
  let start = 0;
  let end = line.length;
  if (end > 0 && line[end - 1] === NEWLINE) end -= 1;
  for (let i = 0; i <= end; i++) {
    if (i < end && line[i] !== TAB) continue;
    fields.push(unescapeField(line, start, i));
    start = i + 1;
  }
  return fields;
}

/** One field of a COPY text line, `line[start, end)`, with COPY's escapes undone; null for `\N`. */
export function unescapeField(line: Uint8Array, start: number, end: number): string | null {
  if (end - start === 2 && line[start] === BACKSLASH && line[start + 1] === 0x4e) return null;
  const text = Buffer.from(line.buffer, line.byteOffset + start, end - start);
  if (!text.includes(BACKSLASH)) return text.toString('utf8');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const b = text[i] as number;
    if (b !== BACKSLASH || i + 1 >= text.length) {
      bytes.push(b);
      continue;
    }
    // COPY … TO writes only these escapes (never octal or hex ones).
    const next = text[++i] as number;
    bytes.push(COPY_ESCAPES[next] ?? next);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The event id of a line (found by counting fields: for failure messages). */
export function eventIdOfLine(line: Uint8Array): string | null {
  const fields = splitLine(line);
  return fields[lineField('event_id')] ?? null;
}

/** A line as the object the reference row check takes. */
export function rowOfLine(line: Uint8Array): RowForVerify {
  const fields = splitLine(line);
  const row: Record<string, unknown> = {
    prev_hash: fields[PREV_HASH_FIELD] ?? '',
    hash: fields[HASH_FIELD] ?? '',
    recorded_at: '',
  };
  LINE_COLUMNS.forEach((c, i) => {
    row[c.column] = fields[i + 1] ?? null;
  });
  if (row.metadata === null) row.metadata = 'null';
  return row as RowForVerify;
}

/** The hashed columns of `version`, as a mask over `LINE_COLUMNS`. */
export function columnsOfVersion(version: HashVersion): boolean[] {
  const included = new Set(canonicalColumns(version).map((c) => c.column));
  return LINE_COLUMNS.map((c) => included.has(c.column));
}
