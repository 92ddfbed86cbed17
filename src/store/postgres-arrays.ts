import type postgres from 'postgres';

/**
 * The array types our statements bind (`$1::text[]`, `$2::int8[]`), declared up front so that
 * postgres.js need not fetch array types on each new connection. Its type fetch runs unawaited
 * inside the driver (3.4.9): a connection cut during it, followed by a refused reconnect, rejects
 * that fetch with nobody listening, an unhandled rejection that kills the thread it runs on.
 */
const TEXT_ARRAY_OID = 1009;
const INT8_ARRAY_OID = 1016;

export const ARRAY_TYPES = {
  textArray: {
    to: TEXT_ARRAY_OID,
    from: [TEXT_ARRAY_OID],
    serialize: arrayLiteral,
    parse: parseArrayLiteral,
  },
  int8Array: {
    to: INT8_ARRAY_OID,
    from: [INT8_ARRAY_OID],
    serialize: arrayLiteral,
    parse: parseArrayLiteral,
  },
} satisfies Record<string, postgres.PostgresType>;

/** A one-dimensional array as a Postgres array literal; every element quoted, nulls as NULL. */
export function arrayLiteral(values: readonly unknown[]): string {
  let text = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) text += ',';
    text +=
      value === null || value === undefined
        ? 'NULL'
        : `"${String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  }
  return `${text}}`;
}

/** A one-dimensional array literal (as Postgres prints text and int8 arrays) to strings. */
export function parseArrayLiteral(text: string): Array<string | null> {
  const values: Array<string | null> = [];
  if (text.length <= 2) return values;
  let i = 1;
  while (i < text.length - 1) {
    if (text[i] === '"') {
      let value = '';
      i += 1;
      while (text[i] !== '"') {
        if (text[i] === '\\') i += 1;
        value += text[i];
        i += 1;
      }
      values.push(value);
      i += 2;
    } else {
      const end = text.indexOf(',', i);
      const raw = text.slice(i, end === -1 ? text.length - 1 : end);
      values.push(raw === 'NULL' ? null : raw);
      i = end === -1 ? text.length : end + 1;
    }
  }
  return values;
}
