import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresConnection } from '../src/store/postgres-connection.js';
import { testDatabaseUrl } from './support/postgres.js';

/** Arrays bound without the driver's per-connection type fetch still reach Postgres intact. */
describe('array parameters', () => {
  let connection: PostgresConnection;

  beforeAll(async () => {
    connection = new PostgresConnection({ url: await testDatabaseUrl() });
  });

  afterAll(async () => {
    await connection?.close();
  });

  it('text[] and int8[] round-trip quotes, backslashes, commas, braces, NULL and empty strings', async () => {
    const texts = ['plain', 'with "quotes"', 'back\\slash', 'a,b', '{braces}', '', null, 'NULL'];
    const numbers = ['1', '9007199254740993', null];
    const [row] = await connection.query<{ texts: unknown; numbers: unknown; n: number }>(
      'select $1::text[] as texts, $2::int8[] as numbers, cardinality($1::text[]) as n',
      [texts, numbers],
    );
    expect(row).toEqual({ texts, numbers, n: texts.length });
  });

  it('empty arrays bind as empty arrays', async () => {
    const [row] = await connection.query<{ n: number }>('select cardinality($1::text[]) as n', [
      [],
    ]);
    expect(row?.n).toBe(0);
  });
});
