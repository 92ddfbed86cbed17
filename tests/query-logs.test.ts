import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../src/store/audit-store.js';
import { openAuditStore } from '../src/store/open-store.js';
import { queryAuditLogs, streamAuditLogs } from '../src/store/queries.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { runCli } from './support/cli.js';
import { testDatabaseUrl } from './support/postgres.js';
import { makeRecord } from './support/records.js';

const ROWS = 60_000;
const PER_MILLISECOND = 131;

/** Keyset paging over rows that share one timestamp, on real Postgres. */
describe('streamAuditLogs (keyset paging)', () => {
  let databaseUrl: string;
  let store: AuditStore;
  const base = Date.UTC(2026, 10, 1, 8, 0, 0);

  beforeAll(async () => {
    databaseUrl = await testDatabaseUrl();
    store = await openAuditStore({ databaseUrl });
    const writer = new AuditWriter({ store, journalDir: null });
    for (let i = 0; i < ROWS; i++) {
      // 131 rows per millisecond, all with the same timestamp string: only the id breaks ties.
      const at = new Date(base + Math.floor(i / PER_MILLISECOND)).toISOString();
      writer.enqueue(
        makeRecord(i, {
          occurredAt: at.replace('Z', '000Z'),
          tenantId: `tenant_${i % 3}`,
          toolName: i % 2 === 0 ? 'lookup_order' : 'refund',
        }),
      );
      if (i % 20_000 === 19_999) await writer.flush();
    }
    // One row with microseconds that must survive the round trip.
    writer.enqueue(
      makeRecord(ROWS, { occurredAt: '2026-11-02T08:00:00.123456Z', eventId: 'micro:1' }),
    );
    await writer.shutdown();
  }, 120_000);

  afterAll(async () => {
    await store?.close();
  });

  it.each(['asc', 'desc'] as const)(
    'pages %s through every row exactly once although 131 rows share each millisecond',
    async (order) => {
      const seen = new Set<string>();
      let previous: string | undefined;
      let count = 0;
      for await (const row of streamAuditLogs(
        store,
        { order, before: '2026-11-02T00:00:00Z' },
        { pageSize: 997 },
      )) {
        seen.add(row.id);
        count++;
        const key = `${row.occurredAt}|${row.id}`;
        if (previous !== undefined)
          expect(order === 'asc' ? key > previous : key < previous).toBe(true);
        previous = key;
      }
      expect(count).toBe(ROWS);
      expect(seen.size).toBe(ROWS);
    },
  );

  it('stops at limit and combines filters', async () => {
    const rows: string[] = [];
    for await (const row of streamAuditLogs(store, {
      tenantId: 'tenant_1',
      toolName: 'refund',
      limit: 2_500,
    })) {
      expect(row.tenantId).toBe('tenant_1');
      expect(row.toolName).toBe('refund');
      rows.push(row.id);
    }
    expect(rows).toHaveLength(2_500);
  });

  it('keeps microseconds of occurred_at end to end', async () => {
    const [row] = await queryAuditLogs(store, { since: '2026-11-02T08:00:00.123456Z' });
    expect(row?.occurredAt).toBe('2026-11-02T08:00:00.123456Z');
    const none = await queryAuditLogs(store, { since: '2026-11-02T08:00:00.123457Z' });
    expect(none).toEqual([]);
  });

  it('aitrail logs streams every row as ndjson with no duplicates or gaps', async () => {
    const result = await runCli(
      ['logs', '--until', '2026-11-01', '--order', 'asc', '-o', 'ndjson'],
      { env: { DATABASE_URL: databaseUrl } },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const ids = result.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toHaveLength(ROWS);
    expect(new Set(ids).size).toBe(ROWS);
  }, 120_000);
});
