import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryAuditLogs } from '../src/store/queries.js';
import { verifyAuditChains } from '../src/store/verify/index.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { makeRecord } from './support/records.js';
import { BACKENDS, openTestStore, type TestStore } from './support/stores.js';

describe.each(BACKENDS)('a poison record on %s', (backend) => {
  let db: TestStore;

  beforeAll(async () => {
    db = await openTestStore(backend);
  });

  afterAll(async () => {
    await db?.close();
  });

  it('is isolated from its batch of 1,000: 999 rows written normally, the poison one stored degraded and counted', async () => {
    const writer = new AuditWriter({ store: db.store, journalDir: null, batchSize: 1000 });
    // Too large for the actor_id b-tree index: the database refuses the row for good (SQLSTATE 54000).
    const poisonActor = randomBytes(12_000).toString('base64');
    const records = Array.from({ length: 1000 }, (_, i) =>
      makeRecord(i, i === 437 ? { actorId: poisonActor } : {}),
    );
    for (const record of records) writer.enqueue(record);
    await writer.flush();
    const stats = writer.stats();
    expect(stats).toMatchObject({ written: 1000, poisoned: 1, dropped: 0 });

    const rows = await queryAuditLogs(db.store, { limit: 2000, order: 'asc' });
    expect(rows).toHaveLength(1000);
    const degraded = rows.filter((r) => 'aitrailPoison' in r.metadata);
    expect(degraded.map((r) => r.eventId)).toEqual([records[437]?.eventId]);
    expect(degraded[0]?.actorId.length).toBeLessThan(400);
    const intact = rows.filter((r) => !('aitrailPoison' in r.metadata));
    expect(intact).toHaveLength(999);
    expect(intact.every((r) => r.actorId.startsWith('user_'))).toBe(true);

    // The degraded row keeps the original fields (base64) so the chain still verifies.
    const report = await verifyAuditChains(db.store, { chainId: writer.chainId });
    expect(report.ok).toBe(true);
    expect(report.chains[0]).toMatchObject({ rowsChecked: 1000, degradedRows: 1 });
    await writer.shutdown();
  });
});
