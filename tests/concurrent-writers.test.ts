import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../src/store/audit-store.js';
import { openAuditStore } from '../src/store/open-store.js';
import { verifyAuditChains } from '../src/store/verify/index.js';
import { runTs } from './support/cli.js';
import { testDatabaseUrl } from './support/postgres.js';
import { scratchDir } from './support/stores.js';

describe('many writer processes into one database', () => {
  let url: string;
  let store: AuditStore;

  beforeAll(async () => {
    url = await testDatabaseUrl();
  });

  afterAll(async () => {
    await store?.close();
  });

  it('four concurrent processes produce four chains that all verify, with no lock between them', async () => {
    const perProcess = 2_500;
    const results = await Promise.all(
      ['a', 'b', 'c', 'd'].map((label) =>
        runTs('tests/fixtures/emit-events.ts', [], {
          env: {
            DATABASE_URL: url,
            AITRAIL_DATA_DIR: scratchDir(),
            EMIT_COUNT: String(perProcess),
            EMIT_LABEL: label,
          },
        }),
      ),
    );
    for (const result of results) {
      expect(result.stderr).not.toMatch(/DROPPED|error/i);
      expect(result.code).toBe(0);
    }
    store = await openAuditStore(url);
    const report = await verifyAuditChains(store);
    expect(report.ok).toBe(true);
    expect(report.chains).toHaveLength(4);
    for (const chain of report.chains) {
      expect(chain).toMatchObject({
        rowsChecked: perProcess,
        firstSeq: 1,
        lastSeq: perProcess,
        failures: 0,
      });
      expect(chain.checkpoints.total).toBeGreaterThan(0);
    }
    const [count] = await store.query<{ n: number }>(
      'select count(distinct event_id)::int as n from audit_logs',
    );
    expect(count?.n).toBe(4 * perProcess);
  });
});
