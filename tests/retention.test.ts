import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../src/store/audit-record.js';
import type { AuditStore } from '../src/store/audit-store.js';
import { openAuditStore } from '../src/store/open-store.js';
import { queryAuditLogs } from '../src/store/queries.js';
import { applyRetention } from '../src/store/retention/apply-retention.js';
import { placeLegalHold, releaseLegalHold } from '../src/store/retention/legal-holds.js';
import { setRetentionPolicy } from '../src/store/retention/policy.js';
import { verifyAuditChains } from '../src/store/verify/index.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { createCheckpointSigner } from '../src/store/writer/checkpoint-signer.js';
import { runCli } from './support/cli.js';
import { testDatabaseUrl } from './support/postgres.js';
import { makeRecord } from './support/records.js';

const SIGNING_KEY = 'retention-test-signing-key-0123456789';
const signer = createCheckpointSigner(SIGNING_KEY);
/** The present of these tests: December 2026. */
const NOW = new Date(Date.UTC(2026, 11, 1, 22));

/** One writer's chain over three months (March, April, May 2026), in time order. */
function threeMonths(): AuditRecord[] {
  return [2, 3, 4].flatMap((month) =>
    Array.from({ length: 5 }, (_, i) =>
      makeRecord(i, {
        tenantId: i % 2 === 0 ? 'acme' : 'globex',
        subjectId: `user_${month}_${i}`,
        occurredAt: new Date(Date.UTC(2026, month, 2 + i, 9)).toISOString().replace('Z', '100Z'),
      }),
    ),
  );
}

describe('retention on a partitioned table with three months of data', () => {
  let url: string;
  let store: AuditStore;
  let chainId: string;

  beforeAll(async () => {
    url = await testDatabaseUrl();
    store = await openAuditStore({ databaseUrl: url });
    const writer = new AuditWriter({ store, journalDir: null, checkpoints: { signer } });
    for (const record of threeMonths()) writer.enqueue(record);
    await writer.shutdown();
    chainId = writer.chainId;
  });

  afterAll(async () => {
    await store?.close();
  });

  it('refuses a period below the 6-month floor unless an override reason is given', async () => {
    await expect(
      setRetentionPolicy(store, { tenantId: 'acme', keepMonths: 3 }),
    ).rejects.toMatchObject({ code: 'RETENTION_BELOW_FLOOR' });
    await expect(
      setRetentionPolicy(store, {
        tenantId: 'acme',
        keepMonths: 3,
        overrideReason: 'DPA ruling 12',
      }),
    ).resolves.toMatchObject({ keepMonths: 3 });
  });

  it('keeps everything while any tenant in a month has no policy (default: forever)', async () => {
    // December minus 8 months: months ending by April 1st have expired, i.e. March.
    await setRetentionPolicy(store, { tenantId: 'acme', keepMonths: 8 });
    const result = await applyRetention(store, { now: NOW, dryRun: true });
    expect(result.decisions.filter((d) => d.decision === 'prune')).toEqual([]);
    expect(result.decisions.find((d) => d.partition === 'audit_logs_p2026_03')?.why).toContain(
      'tenant globex: no retention policy',
    );
  });

  it('a legal hold on a tenant blocks retention with a clear error', async () => {
    await setRetentionPolicy(store, { tenantId: 'globex', keepMonths: 8 });
    const hold = await placeLegalHold(store, { tenantId: 'globex', reason: 'audit 2026', signer });
    await expect(applyRetention(store, { now: NOW, signer })).rejects.toMatchObject({
      code: 'LEGAL_HOLD',
      message: expect.stringContaining('audit_logs_p2026_03'),
    });
    await releaseLegalHold(store, { holdId: hold.id, reason: 'audit closed', signer });
  });

  it('removes exactly the expired month, as a whole partition, with a signed prune record', async () => {
    const dry = await runCli(['retention', 'apply', '--dry-run', '--database-url', url]);
    expect(dry.code).toBe(0);
    const result = await applyRetention(store, { now: NOW, signer });
    expect(result.pruned.map((p) => p.partitionName)).toEqual(['audit_logs_p2026_03']);
    expect(result.pruned[0]).toMatchObject({
      rowsRemoved: 5,
      chains: [{ chainId, firstSeq: 1, lastSeq: 5, rows: 5 }],
      algorithm: 'hmac-sha256',
    });
    const partitions = await store.query<{ name: string }>(
      `select relname as name from pg_class where relname like 'audit_%_p2026_03'`,
    );
    expect(partitions).toEqual([]);
    const rows = await queryAuditLogs(store, {
      since: '2026-03-01T00:00:00Z',
      until: '2026-05-31T23:59:59Z',
      limit: 100,
    });
    expect(rows).toHaveLength(10);
    expect(await queryAuditLogs(store, { subjectId: 'user_2_0' })).toEqual([]);
  });

  it('verify passes and names the pruned range and the signed record behind it', async () => {
    const report = await verifyAuditChains(store, { signer });
    expect(report.ok).toBe(true);
    const chain = report.chains.find((c) => c.chainId === chainId);
    expect(chain?.firstSeq).toBe(6);
    expect(chain?.pruned).toEqual([
      expect.objectContaining({
        partitionName: 'audit_logs_p2026_03',
        firstSeq: 1,
        lastSeq: 5,
        rows: 5,
        rangeFrom: '2026-03-01T00:00:00.000000Z',
        signatureValid: true,
      }),
    ]);
  });

  it('aitrail verify exits 0 and prints the pruned range with its prune record', async () => {
    const verified = await runCli(['verify', '--chain', chainId, '--database-url', url], {
      env: { AITRAIL_SIGNING_KEY: SIGNING_KEY },
    });
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      /pruned seq 1\.\.5 \(5 row\(s\), 2026-03\) by prune record [0-9a-f-]{36} \(signed\)/,
    );
  });

  it('records the run as an audit.retention_applied event', async () => {
    const [event] = await queryAuditLogs(store, { action: 'audit.retention_applied' });
    expect(event?.metadata).toMatchObject({ partition: 'audit_logs_p2026_03', rowsRemoved: 5 });
  });

  it('does not trust a prune record whose signature does not verify with the key given', async () => {
    const forged = await verifyAuditChains(store, {
      signer: createCheckpointSigner('another-key-entirely-0123456789'),
      chainId,
    });
    expect(forged.chains[0]?.pruned?.[0]?.signatureValid).toBe(false);
    expect(forged.ok).toBe(false);
  });

  it('aitrail retention set and list manage policies; a bad period exits 2', async () => {
    const set = await runCli([
      'retention',
      'set',
      '--tenant',
      'initech',
      '--keep-months',
      '4',
      '--override-reason',
      'DPA ruling 12',
      '--database-url',
      url,
    ]);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({
      tenantId: 'initech',
      keepMonths: 4,
      overrideReason: 'DPA ruling 12',
    });
    const list = await runCli(['retention', 'list', '--database-url', url]);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toContainEqual({
      tenantId: 'initech',
      keepMonths: 4,
      overrideReason: 'DPA ruling 12',
    });
    const bad = await runCli([
      'retention',
      'set',
      '--tenant',
      'initech',
      '--keep-months',
      '0',
      '--database-url',
      url,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'aitrail: --keep-months must be a whole number of months >= 1, got "0"\n',
    );
  });

  it('aitrail hold add, list and remove place and release a legal hold', async () => {
    const env = { AITRAIL_SIGNING_KEY: SIGNING_KEY };
    const added = await runCli(
      ['hold', 'add', '--tenant', 'initech', '--reason', 'case 7', '--database-url', url],
      { env },
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const hold = JSON.parse(added.stdout) as { id: string };
    expect(hold).toMatchObject({ tenantId: 'initech', subjectId: null, releasedAt: null });
    const listed = await runCli(['hold', 'list', '-o', 'json', '--database-url', url]);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((h) => h.id)).toContain(
      hold.id,
    );
    const missing = await runCli(['hold', 'remove', '--reason', 'closed', '--database-url', url]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('aitrail: hold remove needs exactly one HOLD_ID\n');
    const removed = await runCli(
      ['hold', 'remove', hold.id, '--reason', 'case 7 closed', '--database-url', url],
      { env },
    );
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({
      id: hold.id,
      releasedAt: expect.any(String),
    });
    const table = await runCli(['hold', 'list', '--database-url', url]);
    expect(table.code).toBe(0);
    expect(table.stdout).not.toContain(hold.id);
    const all = await runCli(['hold', 'list', '--all', '--database-url', url]);
    expect(all.stdout).toMatch(new RegExp(`^${hold.id} .* tenant initech .* released `, 'm'));
  });
});
