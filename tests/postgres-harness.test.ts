import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThrowawayCluster } from './support/pg-cluster.js';
import { startPrivateCluster, testDatabaseUrl } from './support/postgres.js';

const clients: postgres.Sql[] = [];

function connect(url: string): postgres.Sql {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
  clients.push(sql);
  return sql;
}

afterAll(async () => {
  await Promise.all(clients.map((sql) => sql.end({ timeout: 5 })));
});

describe('testDatabaseUrl', () => {
  it('gives a working database on Postgres 15 or newer', async () => {
    const sql = connect(await testDatabaseUrl());

    const [row] = await sql<{ one: number; version: number }[]>`
      SELECT 1 AS one, current_setting('server_version_num')::int AS version
    `;

    expect(row?.one).toBe(1);
    expect(row?.version).toBeGreaterThanOrEqual(150000);
  });

  it('gives each call its own database', async () => {
    const [firstUrl, secondUrl] = await Promise.all([testDatabaseUrl(), testDatabaseUrl()]);
    const first = connect(firstUrl);
    const second = connect(secondUrl);

    await first`CREATE TABLE only_in_first (id int)`;
    const [firstName] = await first<{ name: string }[]>`SELECT current_database() AS name`;
    const [secondName] = await second<{ name: string }[]>`SELECT current_database() AS name`;
    const [visible] = await second<{ table: string | null }[]>`
      SELECT to_regclass('only_in_first')::text AS table
    `;

    expect(firstName?.name).not.toBe(secondName?.name);
    expect(visible?.table).toBeNull();
  });
});

describe('startPrivateCluster', () => {
  let cluster: ThrowawayCluster;

  beforeAll(async () => {
    cluster = await startPrivateCluster();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('refuses connections after an immediate stop', async () => {
    await cluster.stopCluster('immediate');
    try {
      const sql = connect(cluster.url);
      await expect(sql`SELECT 1`).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await cluster.startCluster();
    }
  });

  it('keeps committed rows across an immediate stop and a restart on the same port', async () => {
    const before = connect(cluster.url);
    await before`CREATE TABLE survivors (id int)`;
    await before`INSERT INTO survivors VALUES (1), (2)`;
    const port = cluster.port;

    await cluster.stopCluster('immediate');
    await cluster.startCluster();
    const after = connect(cluster.url);
    const rows = await after<{ id: number }[]>`SELECT id FROM survivors ORDER BY id`;

    expect(cluster.port).toBe(port);
    expect(new URL(cluster.url).port).toBe(String(port));
    expect(rows.map((row) => row.id)).toEqual([1, 2]);
  });
});
