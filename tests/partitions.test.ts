import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../src/store/audit-store.js';
import { canonicalJson } from '../src/store/canonical-json.js';
import { eraseSubject } from '../src/store/erasure/erase-subject.js';
import { HashChain } from '../src/store/hash-chain.js';
import { MIGRATIONS_FOLDER } from '../src/store/migrations.js';
import { openAuditStore } from '../src/store/open-store.js';
import { queryAuditLogs } from '../src/store/queries.js';
import { verifyAuditChains } from '../src/store/verify/index.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { createCheckpointSigner } from '../src/store/writer/checkpoint-signer.js';
import { REPO_ROOT, runCli } from './support/cli.js';
import type { ThrowawayCluster } from './support/pg-cluster.js';
import { startPrivateCluster, testDatabaseUrl } from './support/postgres.js';
import { makeRecord } from './support/records.js';
import { scratchDir } from './support/stores.js';

const signer = createCheckpointSigner('partition-test-signing-key-0123456789');

/** Rows of one chain spread over three months (Aug, Sep, Oct 2026). */
function threeMonthRecords() {
  return [7, 8, 9].flatMap((month) =>
    Array.from({ length: 4 }, (_, i) =>
      makeRecord(i, {
        occurredAt: new Date(Date.UTC(2026, month, 3 + i, 12)).toISOString().replace('Z', '250Z'),
      }),
    ),
  );
}

describe('partitioned audit_logs on real Postgres', () => {
  let url: string;
  let store: AuditStore;
  let sql: postgres.Sql;

  beforeAll(async () => {
    url = await testDatabaseUrl();
    store = await openAuditStore({ databaseUrl: url });
    sql = postgres(url, { max: 1, onnotice: () => {} });
    const writer = new AuditWriter({ store, journalDir: null, checkpoints: { signer } });
    for (const record of threeMonthRecords()) writer.enqueue(record);
    await writer.shutdown();
  });

  afterAll(async () => {
    await sql?.end();
    await store?.close();
  });

  it('puts each month in its own partition, created by the store when a month had none', async () => {
    const rows = await sql<{ partition: string; n: number }[]>`
      select tableoid::regclass::text as partition, count(*)::int as n from audit_logs
      group by 1 order by 1`;
    expect(rows).toEqual([
      { partition: 'audit_logs_p2026_08', n: 4 },
      { partition: 'audit_logs_p2026_09', n: 4 },
      { partition: 'audit_logs_p2026_10', n: 4 },
    ]);
  });

  it('refuses DELETE, UPDATE and TRUNCATE on a partition addressed directly', async () => {
    await expect(sql`delete from audit_logs_p2026_09`).rejects.toThrow(/append-only: DELETE/);
    await expect(sql`update audit_logs_p2026_09 set outcome = 'denied'`).rejects.toThrow(
      /append-only: UPDATE/,
    );
    await expect(sql`truncate audit_logs_p2026_09`).rejects.toThrow(/append-only: TRUNCATE/);
    await expect(sql`truncate audit_logs_default`).rejects.toThrow(/append-only: TRUNCATE/);
    await expect(sql`truncate audit_logs`).rejects.toThrow(/append-only: TRUNCATE/);
  });

  it('keeps the idempotency key: the same records written again add no row', async () => {
    const [before] = await sql<{ n: number }[]>`select count(*)::int as n from audit_logs`;
    const rows = await sql`select * from audit_logs order by occurred_at limit 3`;
    const chain = new HashChain('replayed-chain');
    const replays = rows.map((row) =>
      chain.seal(
        {
          ...makeRecord(0),
          eventId: row.event_id as string,
          occurredAt: (row.occurred_at as Date).toISOString().replace('Z', '250Z'),
        },
        '{}',
      ),
    );
    expect(await store.insertRecords(replays)).toBe(0);
    const [after] = await sql<{ n: number }[]>`select count(*)::int as n from audit_logs`;
    expect(after?.n).toBe(before?.n);
  });

  it('verifies every chain across the partitions', async () => {
    const report = await verifyAuditChains(store, { signer });
    expect(report.ok).toBe(true);
    expect(report.rowsChecked).toBe(12);
  });
});

describe('roles on partitions', () => {
  let cluster: ThrowawayCluster;
  const urls: Record<'owner' | 'writer' | 'reader', string> = { owner: '', writer: '', reader: '' };

  beforeAll(async () => {
    cluster = await startPrivateCluster({ fast: true });
    const admin = postgres(cluster.url, { onnotice: () => {} });
    await admin`create database aitrail`;
    await admin.end();
    const superuser = new URL(cluster.url);
    superuser.pathname = '/aitrail';
    const init = postgres(superuser.toString(), { onnotice: () => {} });
    await init.unsafe(readFileSync(`${REPO_ROOT}collector/init/01-roles.sql`, 'utf8')).simple();
    await init.end();
    for (const role of ['owner', 'writer', 'reader'] as const) {
      const url = new URL(cluster.url);
      url.username = `aitrail_${role}`;
      url.password = `aitrail_${role}_local_only`;
      url.pathname = '/aitrail';
      urls[role] = url.toString();
    }
    expect((await runCli(['migrate', '--database-url', urls.owner])).code).toBe(0);
    // The writer meets months the migration did not create, and creates them itself.
    const store = await openAuditStore({ databaseUrl: urls.writer, migrate: false });
    const writer = new AuditWriter({ store, journalDir: null });
    for (const record of threeMonthRecords()) writer.enqueue(record);
    await writer.shutdown();
    expect(writer.stats()).toMatchObject({ written: 12, dropped: 0 });
    await store.close();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  async function as<T>(role: keyof typeof urls, fn: (sql: postgres.Sql) => Promise<T>) {
    const sql = postgres(urls[role], { max: 1, onnotice: () => {} });
    try {
      return await fn(sql);
    } finally {
      await sql.end();
    }
  }

  it('the writer inserted through the parent into partitions it created', async () => {
    const rows = await as('owner', (sql) =>
      sql.begin(async (tx) => {
        await tx`select set_config('aitrail.tenant_id', 'acme', true)`;
        return tx`select distinct tableoid::regclass::text as p from audit_logs order by 1`;
      }),
    );
    expect(rows.map((r) => r.p)).toEqual([
      'audit_logs_p2026_08',
      'audit_logs_p2026_09',
      'audit_logs_p2026_10',
    ]);
  });

  it('a reader cannot read a partition directly, only through the parent under RLS', async () => {
    await as('reader', async (sql) => {
      await expect(sql`select * from audit_logs_p2026_09`).rejects.toThrow(/permission denied/);
      await expect(sql`select * from audit_personal_data_p2026_09`).rejects.toThrow(
        /permission denied/,
      );
      const rows = await sql.begin(async (tx) => {
        await tx`select set_config('aitrail.tenant_id', 'acme', true)`;
        return tx`select count(*)::int as n from audit_logs`;
      });
      expect(rows[0]?.n).toBe(6);
    });
  });

  it('row-level security holds on a partition even for its owner: no policy, no rows', async () => {
    await as('owner', async (sql) => {
      const rows = await sql.begin(async (tx) => {
        await tx`select set_config('aitrail.tenant_id', 'acme', true)`;
        const direct = await tx`select count(*)::int as n from audit_logs_p2026_09`;
        const parent =
          await tx`select count(*)::int as n from audit_logs where occurred_at >= '2026-09-01' and occurred_at < '2026-10-01'`;
        return [direct[0]?.n, parent[0]?.n];
      });
      expect(rows).toEqual([0, 2]);
    });
  });

  it('the writer may not change or delete vault rows, nor read them', async () => {
    await as('writer', async (sql) => {
      await expect(sql`update audit_personal_data set personal = null`).rejects.toThrow(
        /permission denied/,
      );
      await expect(sql`delete from audit_personal_data`).rejects.toThrow(/permission denied/);
      await expect(sql`select personal from audit_personal_data`).rejects.toThrow(
        /permission denied/,
      );
    });
  });
});

describe('migrating a table made by the previous release', () => {
  let url: string;
  let store: AuditStore;
  const written: { eventId: string; actorId: string }[] = [];

  beforeAll(async () => {
    url = await testDatabaseUrl();
    // The release before 0004: migrations 0000-0003 only.
    const oldFolder = scratchDir('aitrail-old-migrations-');
    mkdirSync(join(oldFolder, 'meta'));
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8'));
    journal.entries = journal.entries.filter((e: { idx: number }) => e.idx <= 3);
    writeFileSync(join(oldFolder, 'meta/_journal.json'), JSON.stringify(journal));
    for (const entry of journal.entries as { tag: string }[])
      copyFileSync(
        join(MIGRATIONS_FOLDER, `${entry.tag}.sql`),
        join(oldFolder, `${entry.tag}.sql`),
      );
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await migrate(drizzle(sql), { migrationsFolder: oldFolder });
      // Rows as that release sealed them: no subject, identifiers in plain text in the chain.
      const chain = new HashChain('legacy-chain', undefined, 1);
      for (let i = 0; i < 30; i++) {
        const record = makeRecord(i, {
          subjectId: null,
          occurredAt: new Date(Date.UTC(2026, 6 + (i % 3), 1 + i, 8))
            .toISOString()
            .replace('Z', '500Z'),
        });
        const sealed = chain.seal(record, canonicalJson(record.metadata));
        written.push({ eventId: sealed.eventId, actorId: sealed.actorId });
        await sql`insert into audit_logs (id, event_id, occurred_at, tenant_id, actor_type, actor_id,
          action, outcome, resource_type, resource_id, conversation_id, task_id, agent_name, tool_name,
          approval_id, metadata, trace_id, span_id, service_name, chain_id, chain_seq, prev_hash, hash)
          values (${sealed.id}, ${sealed.eventId}, ${sealed.occurredAt}, ${sealed.tenantId},
          ${sealed.actorType}, ${sealed.actorId}, ${sealed.action}, ${sealed.outcome}, null, null,
          ${sealed.conversationId}, null, ${sealed.agentName}, ${sealed.toolName}, null,
          ${sealed.metadataJson}::jsonb, ${sealed.traceId}, ${sealed.spanId},
          ${sealed.serviceName}, ${sealed.chainId}, ${sealed.chainSeq}, ${sealed.prevHash}, ${sealed.hash})`;
      }
      const unsigned = {
        chainId: chain.chainId,
        kind: 'legacy' as const,
        rootHash: null,
        prevCheckpointHash: null,
        hashVersion: 1 as const,
        chainSeq: chain.lastSeq,
        headHash: chain.headHash,
        createdAt: new Date().toISOString(),
        serviceName: 'old-release',
        algorithm: signer.algorithm,
        keyId: signer.keyId,
        final: true,
      };
      // The old release's checkpoint columns (before tree heads).
      await sql`insert into audit_checkpoints (chain_id, chain_seq, head_hash, created_at,
        service_name, algorithm, key_id, signature, final)
        values (${unsigned.chainId}, ${unsigned.chainSeq}, ${unsigned.headHash},
        ${unsigned.createdAt}, ${unsigned.serviceName}, ${unsigned.algorithm}, ${unsigned.keyId},
        ${signer.sign(unsigned)}, ${unsigned.final})`;
    } finally {
      await sql.end();
    }
    store = await openAuditStore({ databaseUrl: url });
  });

  afterAll(async () => {
    await store?.close();
  });

  it('keeps every row, in monthly partitions', async () => {
    const rows = await store.query<{ partition: string; n: number }>(
      `select tableoid::regclass::text as partition, count(*)::int as n from audit_logs group by 1 order by 1`,
    );
    expect(rows).toEqual([
      { partition: 'audit_logs_p2026_07', n: 10 },
      { partition: 'audit_logs_p2026_08', n: 10 },
      { partition: 'audit_logs_p2026_09', n: 10 },
    ]);
  });

  it('keeps every proof: the chain and its signed final checkpoint verify', async () => {
    const report = await verifyAuditChains(store, { signer });
    expect(report.ok).toBe(true);
    expect(report.rowsChecked).toBe(30);
    expect(report.signatures).toBe('verified');
  });

  it('finds old rows by actor through the vault, as before', async () => {
    const rows = await queryAuditLogs(store, { actorId: 'user_2', limit: 100 });
    expect(rows.map((r) => r.eventId).sort()).toEqual(
      written
        .filter((w) => w.actorId === 'user_2')
        .map((w) => w.eventId)
        .sort(),
    );
  });

  it('erasure of an old row says its values stay in the chain in plain text', async () => {
    const receipt = await eraseSubject(store, { subjectId: 'user_3', reason: 'Art. 17', signer });
    expect(receipt.rowsErased).toBe(6);
    expect(receipt.plaintextRows).toBe(6);
    expect((await verifyAuditChains(store, { signer })).ok).toBe(true);
  });
});
