import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../src/store/open-store.js';
import { queryAuditLogs, streamAuditLogs } from '../src/store/queries.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { REPO_ROOT, runCli } from './support/cli.js';
import type { ThrowawayCluster } from './support/pg-cluster.js';
import { startPrivateCluster } from './support/postgres.js';
import { makeRecord } from './support/records.js';

/** The shipped roles: migrate refuses a reader, and readers leave an audit.read row — only that. */
describe('reading roles on Postgres', () => {
  let cluster: ThrowawayCluster;
  const url = (role: string) => {
    const u = new URL(cluster.url);
    u.username = role;
    u.password = `${role}_local_only`;
    u.pathname = '/aitrail';
    return u.toString();
  };

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
    const migrated = await runCli(['migrate', '--database-url', url('aitrail_owner')]);
    expect(migrated.code).toBe(0);
    const store = await openAuditStore({ databaseUrl: url('aitrail_writer'), migrate: false });
    const writer = new AuditWriter({ store, journalDir: null });
    for (let i = 0; i < 10; i++) writer.enqueue(makeRecord(i, { tenantId: 'acme' }));
    await writer.shutdown();
    await store.close();
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('aitrail migrate as the read-only role exits 2 instead of printing success', async () => {
    const result = await runCli(['migrate', '--database-url', url('aitrail_reader')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^aitrail: role "aitrail_reader" may not migrate .*run `aitrail migrate` as the role that owns the audit tables/,
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a read-only reader records its read through the writer role, and reads its tenant', async () => {
    const store = await openAuditStore({ databaseUrl: url('aitrail_reader'), migrate: false });
    const readLog = await openAuditStore({ databaseUrl: url('aitrail_writer'), migrate: false });
    try {
      const rows: string[] = [];
      for await (const row of streamAuditLogs(
        store,
        { tenantId: 'acme' },
        { reader: 'user:ann', readLog },
      ))
        rows.push(row.id);
      expect(rows).toHaveLength(10);
      const reads = await queryAuditLogs(store, {
        tenantId: 'acme',
        action: 'audit.read',
        actorId: 'user:ann',
      });
      expect(reads).toHaveLength(1);
      expect(reads[0]?.metadata).toMatchObject({
        query: 'logs',
        rows: 10,
        databaseRole: 'aitrail_reader',
      });
    } finally {
      await store.close();
      await readLog.close();
    }
  });

  it('without a read log, a read-only role cannot read unrecorded', async () => {
    const store = await openAuditStore({ databaseUrl: url('aitrail_reader'), migrate: false });
    try {
      const read = async () => {
        for await (const _ of streamAuditLogs(store, { tenantId: 'acme' })) {
        }
      };
      await expect(read()).rejects.toMatchObject({ code: 'AUDIT_READ_NOT_RECORDED' });
    } finally {
      await store.close();
    }
  });

  it('aitrail logs as the reader writes its audit.read row through AITRAIL_READ_LOG_URL', async () => {
    const result = await runCli(
      ['logs', '--tenant', 'acme', '--reader', 'user:cli-ann', '-o', 'ndjson'],
      {
        env: {
          DATABASE_URL: url('aitrail_reader'),
          AITRAIL_READ_LOG_URL: url('aitrail_writer'),
        },
      },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(10);
    const auditor = await openAuditStore({ databaseUrl: url('aitrail_auditor'), migrate: false });
    try {
      const reads = await queryAuditLogs(auditor, {
        action: 'audit.read',
        actorId: 'user:cli-ann',
      });
      expect(reads.map((r) => r.metadata.rows)).toEqual([10]);
    } finally {
      await auditor.close();
    }
  });
});
