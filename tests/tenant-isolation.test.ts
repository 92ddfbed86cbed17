import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AI_AUDIT_ACTIONS } from '../src/actions.js';
import { initAuditTelemetry, recordAuditEvent } from '../src/index.js';
import type { AuditStore } from '../src/store/audit-store.js';
import { openAuditStore } from '../src/store/open-store.js';
import { queryAuditLogs } from '../src/store/queries.js';
import { verifyAuditChains } from '../src/store/verify/index.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { REPO_ROOT, runCli } from './support/cli.js';
import type { ThrowawayCluster } from './support/pg-cluster.js';
import { startPrivateCluster } from './support/postgres.js';
import { makeRecord } from './support/records.js';
import { scratchDir } from './support/stores.js';

/**
 * The deployment the compose stack sets up: roles from collector/init/01-roles.sql, migrations
 * run by the owner, the app writing as the insert-only writer, tenants reading through
 * row-level security. A private cluster, because roles are cluster-wide.
 */
describe('roles and tenant isolation on Postgres', () => {
  let cluster: ThrowawayCluster;
  const urls: Record<'owner' | 'writer' | 'reader' | 'auditor', string> = {
    owner: '',
    writer: '',
    reader: '',
    auditor: '',
  };
  const counts = { acme: 0, globex: 0 };

  function roleUrl(role: string): string {
    const url = new URL(cluster.url);
    url.username = role;
    url.password = `${role}_local_only`;
    url.pathname = '/aitrail';
    return url.toString();
  }

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
    for (const role of ['owner', 'writer', 'reader', 'auditor'] as const)
      urls[role] = roleUrl(`aitrail_${role}`);

    const migrated = await runCli(['migrate', '--database-url', urls.owner]);
    expect(migrated.stderr).toContain('migrations applied');
    expect(migrated.code).toBe(0);

    const store = await openAuditStore({ databaseUrl: urls.writer, migrate: false });
    const writer = new AuditWriter({ store, journalDir: null });
    for (let i = 0; i < 40; i++) {
      const record = makeRecord(i);
      counts[record.tenantId as 'acme' | 'globex'] += 1;
      writer.enqueue(record);
    }
    await writer.shutdown();
    expect(writer.stats()).toMatchObject({ written: 40, dropped: 0 });
    await store.close();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  async function withClient<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
    const sql = postgres(url, { onnotice: () => {}, max: 1 });
    try {
      return await fn(sql);
    } finally {
      await sql.end();
    }
  }

  it('the writer role inserts but cannot read, update or delete', async () => {
    await withClient(urls.writer, async (sql) => {
      await expect(sql`select * from audit_logs`).rejects.toThrow(/permission denied/);
      await expect(sql`update audit_logs set outcome = 'denied'`).rejects.toThrow(
        /permission denied/,
      );
      await expect(sql`delete from audit_logs`).rejects.toThrow(/permission denied/);
      await expect(sql`truncate audit_logs`).rejects.toThrow(/permission denied/);
    });
  });

  it('the owner, who bypasses privileges, still meets the append-only triggers', async () => {
    await withClient(urls.owner, async (sql) => {
      await expect(sql`update audit_logs set outcome = 'denied'`).rejects.toThrow(
        /append-only: UPDATE/,
      );
      await expect(sql`delete from audit_logs`).rejects.toThrow(/append-only: DELETE/);
      await expect(sql`truncate audit_logs`).rejects.toThrow(/append-only: TRUNCATE/);
    });
  });

  it("a reader with tenant A's context sees only A's rows through queryAuditLogs", async () => {
    let store: AuditStore | undefined;
    try {
      store = await openAuditStore({ databaseUrl: urls.reader, migrate: false });
      const acme = await queryAuditLogs(store, { tenantId: 'acme', limit: 1000 });
      expect(acme).toHaveLength(counts.acme);
      expect(new Set(acme.map((r) => r.tenantId))).toEqual(new Set(['acme']));
      expect(await queryAuditLogs(store, { limit: 1000 })).toEqual([]);
    } finally {
      await store?.close();
    }
  });

  it('raw SQL as a reader sees only the tenant set for the transaction, and nothing without one', async () => {
    await withClient(urls.reader, async (sql) => {
      expect(await sql`select count(*)::int as n from audit_logs`).toEqual([{ n: 0 }]);
      const rows = await sql.begin(async (tx) => {
        await tx`select set_config('aitrail.tenant_id', 'globex', true)`;
        return tx`select tenant_id, count(*)::int as n from audit_logs group by tenant_id`;
      });
      expect(rows).toEqual([{ tenant_id: 'globex', n: counts.globex }]);
      // The setting was transaction-local: the pooled session is back to seeing nothing.
      expect(await sql`select count(*)::int as n from audit_logs`).toEqual([{ n: 0 }]);
    });
  });

  it('the table owner is subject to the policies too (FORCE ROW LEVEL SECURITY)', async () => {
    await withClient(urls.owner, async (sql) => {
      expect(await sql`select count(*)::int as n from audit_logs`).toEqual([{ n: 0 }]);
    });
  });

  it('aitrail logs --tenant shows one tenant, and no tenant shows nothing, as a reader', async () => {
    const acme = await runCli(
      [
        'logs',
        '--tenant',
        'acme',
        '--limit',
        '1000',
        '--format',
        'json',
        '--database-url',
        urls.reader,
      ],
      { env: { AITRAIL_READ_LOG_URL: urls.writer } },
    );
    expect(acme.code).toBe(0);
    const rows = JSON.parse(acme.stdout) as Array<{ tenantId: string }>;
    expect(rows).toHaveLength(counts.acme);
    expect(rows.every((r) => r.tenantId === 'acme')).toBe(true);
    const none = await runCli(['logs', '--format', 'json', '--database-url', urls.reader], {
      env: { AITRAIL_READ_LOG_URL: urls.writer },
    });
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual([]);
  });

  it('refuses to verify as a role under row-level security instead of reporting false tampering', async () => {
    const result = await runCli(['verify', '--database-url', urls.reader]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/subject to row-level security.*aitrail_auditor/);
  });

  it('the auditor role reads across tenants and verifies every chain', async () => {
    let store: AuditStore | undefined;
    try {
      store = await openAuditStore({ databaseUrl: urls.auditor, migrate: false });
      expect(await queryAuditLogs(store, { limit: 1000 })).toHaveLength(40);
      const report = await verifyAuditChains(store);
      expect(report.ok).toBe(true);
      // 40 rows written, plus one audit.read row for each read through the CLI above.
      const reads = await queryAuditLogs(store, { action: 'audit.read', limit: 1000 });
      expect(report.rowsChecked).toBe(40 + reads.length);
    } finally {
      await store?.close();
    }
  });

  it('the insert-only writer starts with default settings once the owner has migrated, and readers open the store as documented', async () => {
    const telemetry = await initAuditTelemetry({
      databaseUrl: urls.writer,
      dataDir: scratchDir(),
      serviceName: 'writer-defaults',
      handleSignals: false,
    });
    recordAuditEvent({
      action: 'test.written_by_writer',
      tenantId: 'acme',
      actor: { type: 'service', id: 'w' },
    });
    await telemetry.shutdown();
    expect(telemetry.stats()).toMatchObject({ written: 1, dropped: 0 });
    const reader = await openAuditStore(urls.reader);
    try {
      const rows = await queryAuditLogs(reader, {
        tenantId: 'acme',
        action: 'test.written_by_writer',
      });
      expect(rows).toHaveLength(1);
    } finally {
      await reader.close();
    }
  });

  it('runs the compose demo as the stack does: writing as the writer, reading and verifying as the auditor', async () => {
    const result = await runCli(['demo'], {
      env: {
        DATABASE_URL: urls.writer,
        AITRAIL_MIGRATE: 'false',
        AITRAIL_READ_DATABASE_URL: urls.auditor,
        OTEL_SERVICE_NAME: 'compose-demo',
      },
    });
    expect(result.stderr).not.toMatch(/permission denied/);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `All ${Object.values(AI_AUDIT_ACTIONS).length} AI actions recorded.`,
    );
    expect(result.stdout).toMatch(/Integrity: \d+ hash chain\(s\), \d+ row\(s\) verify/);
  });
});
