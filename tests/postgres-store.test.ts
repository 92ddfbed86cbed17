import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../src/store/audit-store.js';
import { canonicalJson } from '../src/store/canonical-json.js';
import { HashChain } from '../src/store/hash-chain.js';
import { openAuditStore } from '../src/store/open-store.js';
import { queryAuditLogs } from '../src/store/queries.js';
import { testDatabaseUrl } from './support/postgres.js';
import { makeRecord } from './support/records.js';

describe('Postgres store under concurrency', () => {
  let store: AuditStore;

  beforeAll(async () => {
    store = await openAuditStore(await testDatabaseUrl());
  });

  afterAll(async () => {
    await store?.close();
  });

  it('runs COPY batches and queries side by side on one pool without breaking a connection', async () => {
    const chains = Array.from({ length: 5 }, (_, i) => new HashChain(`concurrent-${i}`));
    const batch = (chain: HashChain, n: number) =>
      Array.from({ length: 500 }, (_, i) => {
        const record = makeRecord(n * 500 + i);
        return chain.seal(record, canonicalJson(record.metadata));
      });
    const writes = chains.map(async (chain) => {
      for (let n = 0; n < 4; n++) expect(await store.insertRecords(batch(chain, n))).toBe(500);
    });
    const reads = Array.from({ length: 3 }, async () => {
      for (let n = 0; n < 10; n++) await queryAuditLogs(store, { actorId: 'user_1', limit: 10 });
    });
    await Promise.all([...writes, ...reads]);
    const [count] = await store.query<{ n: number }>('select count(*)::int as n from audit_logs');
    expect(count?.n).toBe(5 * 4 * 500);
  });

  it('falls back to the idempotent insert when a COPY batch repeats rows already stored', async () => {
    const chain = new HashChain('replayed');
    const records = Array.from({ length: 20 }, (_, i) => {
      const record = makeRecord(i);
      return chain.seal(record, canonicalJson(record.metadata));
    });
    expect(await store.insertRecords(records.slice(0, 10))).toBe(10);
    expect(await store.insertRecords(records)).toBe(10);
    expect(await store.insertRecords(records)).toBe(0);
  });
});
