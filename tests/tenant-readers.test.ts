import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../src/store/audit-store.js';
import { openAuditStore } from '../src/store/open-store.js';
import { queryAuditLogs } from '../src/store/queries.js';
import { listTenantReaders, revokeTenantReader } from '../src/store/reader-tenants.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { REPO_ROOT, runCli } from './support/cli.js';
import type { ThrowawayCluster } from './support/pg-cluster.js';
import { startPrivateCluster } from './support/postgres.js';
import { makeRecord } from './support/records.js';

/**
 * Per-tenant reader roles (`aitrail grant-reader`), least privilege of the shipped roles, and
 * what a reader can learn through Postgres' side channels. A private cluster, because roles
 * are cluster-wide; the roles come from collector/init/01-roles.sql as in the compose stack.
 */
describe('per-tenant readers and least privilege', () => {
  let cluster: ThrowawayCluster;
  let superuserUrl: string;
  const counts = { acme: 0, globex: 0 };

  function roleUrl(role: string, password = `${role}_local_only`): string {
    const url = new URL(cluster.url);
    url.username = role;
    url.password = password;
    url.pathname = '/aitrail';
    return url.toString();
  }

  async function withClient<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
    const sql = postgres(url, { onnotice: () => {}, max: 1 });
    try {
      return await fn(sql);
    } finally {
      await sql.end();
    }
  }

  /**
   * The `audit.read` rows the CLI's reads wrote into the trail (every read records one), by
   * tenant (`none` for a read without one), counted as the superuser, who bypasses RLS.
   */
  async function readRows(): Promise<{ acme: number; globex: number; none: number; all: number }> {
    const rows = await withClient(
      superuserUrl,
      (sql) => sql<Array<{ tenant: string | null; n: number }>>`
        select tenant_id as tenant, count(*)::int as n from audit_logs
          where action = 'audit.read' group by tenant_id`,
    );
    const of = (tenant: string | null) => rows.find((row) => row.tenant === tenant)?.n ?? 0;
    const other = rows.filter((row) => !['acme', 'globex', null].includes(row.tenant));
    expect(other).toEqual([]);
    const [acme, globex, none] = [of('acme'), of('globex'), of(null)];
    return { acme, globex, none, all: acme + globex + none };
  }

  beforeAll(async () => {
    cluster = await startPrivateCluster({ fast: true });
    await withClient(cluster.url, (sql) => sql`create database aitrail`);
    const superuser = new URL(cluster.url);
    superuser.pathname = '/aitrail';
    superuserUrl = superuser.toString();
    await withClient(superuserUrl, async (sql) => {
      await sql.unsafe(readFileSync(`${REPO_ROOT}collector/init/01-roles.sql`, 'utf8')).simple();
      await sql
        .unsafe(`
          CREATE ROLE acme_reader LOGIN PASSWORD 'acme_local_only';
          CREATE ROLE globex_reader LOGIN PASSWORD 'globex_local_only';
          CREATE ROLE everyone_reader LOGIN BYPASSRLS PASSWORD 'x_local_only';
          GRANT CONNECT ON DATABASE aitrail TO acme_reader, globex_reader;
        `)
        .simple();
    });
    const migrated = await runCli(['migrate', '--database-url', roleUrl('aitrail_owner')]);
    expect(migrated.code).toBe(0);

    const store = await openAuditStore({ databaseUrl: roleUrl('aitrail_writer'), migrate: false });
    const writer = new AuditWriter({ store, journalDir: null });
    for (let i = 0; i < 60; i++) {
      const record = makeRecord(i);
      counts[record.tenantId as 'acme' | 'globex'] += 1;
      writer.enqueue(record);
    }
    await writer.shutdown();
    expect(writer.stats()).toMatchObject({ written: 60, dropped: 0 });
    await store.close();

    for (const [tenant, role] of [
      ['acme', 'acme_reader'],
      ['globex', 'globex_reader'],
    ]) {
      const granted = await runCli([
        'grant-reader',
        '--tenant',
        tenant as string,
        '--role',
        role as string,
        '--database-url',
        roleUrl('aitrail_owner'),
      ]);
      expect(granted.stderr).toContain(`role "${role}" reads tenant(s) ${tenant}`);
      expect(granted.code).toBe(0);
    }
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const acme = () => roleUrl('acme_reader', 'acme_local_only');

  it("a mapped reader sees only its tenant's rows, whatever tenant it sets", async () => {
    await withClient(acme(), async (sql) => {
      const tenants = () =>
        sql`select tenant_id, count(*)::int as n from audit_logs group by tenant_id`;
      expect(await tenants()).toEqual([{ tenant_id: 'acme', n: counts.acme }]);
      await sql`set aitrail.tenant_id = 'globex'`;
      expect(await tenants()).toEqual([{ tenant_id: 'acme', n: counts.acme }]);
      const inTransaction = await sql.begin(async (tx) => {
        await tx`select set_config('aitrail.tenant_id', 'globex', true)`;
        return tx`select count(*)::int as n from audit_logs where tenant_id = 'globex'`;
      });
      expect(inTransaction).toEqual([{ n: 0 }]);
    });
  });

  it('a mapped reader that may act as the shared reader stays mapped after SET ROLE', async () => {
    await withClient(superuserUrl, (sql) => sql`grant aitrail_reader to acme_reader`);
    try {
      await withClient(acme(), async (sql) => {
        await sql`set role aitrail_reader`;
        await sql`set aitrail.tenant_id = 'globex'`;
        expect(
          await sql`select count(*)::int as n from audit_logs where tenant_id = 'globex'`,
        ).toEqual([{ n: 0 }]);
        expect(await sql`select count(*)::int as n from audit_logs`).toEqual([{ n: counts.acme }]);
      });
    } finally {
      await withClient(superuserUrl, (sql) => sql`revoke aitrail_reader from acme_reader`);
    }
  });

  it('aitrail logs as a mapped reader lists its tenant, even when asked for another', async () => {
    // A read-only role records its reads (audit.read) through the writer role.
    const readLog = { env: { AITRAIL_READ_LOG_URL: roleUrl('aitrail_writer') } };
    const before = await readRows();
    const own = await runCli(
      ['logs', '--limit', '1000', '--format', 'json', '--database-url', acme()],
      readLog,
    );
    expect({ code: own.code, stderr: own.stderr }).toEqual({ code: 0, stderr: '' });
    const rows = JSON.parse(own.stdout) as Array<{ tenantId: string }>;
    expect(rows).toHaveLength(counts.acme);
    const other = await runCli(
      ['logs', '--tenant', 'globex', '--format', 'json', '--database-url', acme()],
      readLog,
    );
    expect(other.code).toBe(0);
    expect(JSON.parse(other.stdout)).toEqual([]);
    // Each read wrote its audit.read row: the first without a tenant, the second for globex.
    expect(await readRows()).toEqual({
      acme: before.acme,
      globex: before.globex + 1,
      none: before.none + 1,
      all: before.all + 2,
    });
  });

  it('the shared reader keeps no tenant on a pooled connection across requests', async () => {
    let store: AuditStore | undefined;
    try {
      store = await openAuditStore({
        databaseUrl: roleUrl('aitrail_reader'),
        migrate: false,
        maxConnections: 1,
      });
      expect(await queryAuditLogs(store, { tenantId: 'globex', limit: 1000 })).toHaveLength(
        counts.globex,
      );
      // The next request on the same (only) connection: the tenant was transaction-local.
      const [setting] = await store.query<{ tenant: string | null }>(
        "select current_setting('aitrail.tenant_id', true) as tenant",
      );
      expect(setting?.tenant ?? '').toBe('');
      expect(await queryAuditLogs(store, { limit: 1000 })).toEqual([]);
      const [count] = await store.query<{ n: number }>('select count(*)::int as n from audit_logs');
      expect(count?.n).toBe(0);
    } finally {
      await store?.close();
    }
  });

  it('checkpoints are readable by the auditor only: not by tenant readers, mapped readers or the owner', async () => {
    for (const url of [roleUrl('aitrail_reader'), acme()]) {
      await withClient(url, async (sql) => {
        await expect(sql`select count(*) from audit_checkpoints`).rejects.toThrow(
          /permission denied/,
        );
      });
    }
    await withClient(roleUrl('aitrail_owner'), async (sql) => {
      expect(await sql`select count(*)::int as n from audit_checkpoints`).toEqual([{ n: 0 }]);
    });
    await withClient(roleUrl('aitrail_auditor'), async (sql) => {
      const [row] = await sql`select count(*)::int as n from audit_checkpoints`;
      expect(row?.n).toBeGreaterThan(0);
    });
  });

  it('the writer reads event ids and nothing else, and cannot read the reader mapping', async () => {
    const reads = await readRows();
    await withClient(roleUrl('aitrail_writer'), async (sql) => {
      // Every event id: the 60 records and the audit.read rows of the reads so far.
      const [ids] = await sql`select count(event_id)::int as n from audit_logs`;
      expect(ids?.n).toBe(60 + reads.all);
      await expect(sql`select tenant_id from audit_logs`).rejects.toThrow(/permission denied/);
      await expect(sql`select head_hash from audit_checkpoints`).rejects.toThrow(
        /permission denied/,
      );
      await expect(
        sql`insert into audit_reader_tenants (role_name, tenant_id) values ('acme_reader', 'globex')`,
      ).rejects.toThrow(/permission denied/);
    });
  });

  it('grant-reader refuses roles that bypass RLS, aitrail roles and unknown roles, with exit 2', async () => {
    for (const [role, reason] of [
      ['everyone_reader', /bypasses row-level security/],
      ['aitrail_auditor', /bypasses row-level security/],
      ['aitrail_reader', /one of aitrail's own roles/],
      ['nobody_here', /does not exist/],
    ] as const) {
      const result = await runCli([
        'grant-reader',
        '--tenant',
        'acme',
        '--role',
        role,
        '--database-url',
        roleUrl('aitrail_owner'),
      ]);
      expect(result.stderr).toMatch(reason);
      expect(result.code).toBe(2);
    }
    const asReader = await runCli([
      'grant-reader',
      '--tenant',
      'globex',
      '--role',
      'acme_reader',
      '--database-url',
      roleUrl('aitrail_reader'),
    ]);
    expect(asReader.code).toBe(2);
  });

  it('revoke-reader removes a tenant, and with the last one the read grant', async () => {
    let owner: AuditStore | undefined;
    try {
      owner = await openAuditStore({ databaseUrl: roleUrl('aitrail_owner'), migrate: false });
      await withClient(
        superuserUrl,
        (sql) => sql`create role temp_reader login password 't_local_only'`,
      );
      await withClient(
        superuserUrl,
        (sql) => sql`grant connect on database aitrail to temp_reader`,
      );
      for (const tenant of ['acme', 'globex']) {
        const granted = await runCli([
          'grant-reader',
          '--tenant',
          tenant,
          '--role',
          'temp_reader',
          '--database-url',
          roleUrl('aitrail_owner'),
        ]);
        expect(granted.code).toBe(0);
      }
      const temp = roleUrl('temp_reader', 't_local_only');
      const reads = await readRows();
      await withClient(temp, async (sql) => {
        // Both tenants' rows, their audit.read rows included; a read without a tenant is in none.
        expect(await sql`select count(*)::int as n from audit_logs`).toEqual([
          { n: 60 + reads.acme + reads.globex },
        ]);
        // The vault under the same mapping (migration 0008).
        expect(
          await sql`select count(*)::int as n from audit_personal_data where tenant_id <> all (array['acme', 'globex'])`,
        ).toEqual([{ n: 0 }]);
      });
      const revoked = await runCli([
        'revoke-reader',
        '--tenant',
        'acme',
        '--role',
        'temp_reader',
        '--database-url',
        roleUrl('aitrail_owner'),
      ]);
      expect(revoked.stderr).toContain('1 tenant(s) left');
      expect(revoked.code).toBe(0);
      await withClient(temp, async (sql) => {
        expect(await sql`select count(*)::int as n from audit_logs`).toEqual([
          { n: counts.globex + reads.globex },
        ]);
        expect(
          await sql`select count(*)::int as n from audit_personal_data where tenant_id <> 'globex'`,
        ).toEqual([{ n: 0 }]);
      });
      expect(await revokeTenantReader(owner, { role: 'temp_reader', tenant: 'globex' })).toBe(0);
      expect(await listTenantReaders(owner, { role: 'temp_reader' })).toEqual([]);
      await withClient(temp, async (sql) => {
        await expect(sql`select count(*) from audit_logs`).rejects.toThrow(/permission denied/);
        await expect(sql`select count(*) from audit_personal_data`).rejects.toThrow(
          /permission denied/,
        );
      });
    } finally {
      await owner?.close();
    }
  });

  it('a function-only reader reads its tenant through aitrail_tenant_audit_logs(), and EXPLAIN ANALYZE counts none of the other tenants', async () => {
    await withClient(superuserUrl, (sql) =>
      sql
        .unsafe(`CREATE ROLE acme_bi LOGIN PASSWORD 'bi_local_only';
        GRANT CONNECT ON DATABASE aitrail TO acme_bi;`)
        .simple(),
    );
    const granted = await runCli([
      'grant-reader',
      '--tenant',
      'acme',
      '--role',
      'acme_bi',
      '--function-only',
      '--database-url',
      roleUrl('aitrail_owner'),
    ]);
    expect(granted.stderr).toContain('through aitrail_tenant_audit_logs() only');
    expect(granted.code).toBe(0);
    const reads = await readRows();
    await withClient(roleUrl('acme_bi', 'bi_local_only'), async (sql) => {
      await expect(sql`select count(*) from audit_logs`).rejects.toThrow(/permission denied/);
      await expect(sql`select count(*) from audit_personal_data`).rejects.toThrow(
        /permission denied/,
      );
      await sql`set aitrail.tenant_id = 'globex'`;
      expect(
        await sql`select tenant_id, count(*)::int as n from aitrail_tenant_audit_logs() group by 1`,
      ).toEqual([{ tenant_id: 'acme', n: counts.acme + reads.acme }]);
      const plan = await sql`explain (analyze, format json)
        select * from aitrail_tenant_audit_logs() where tenant_id = 'globex'`;
      const [explained] = plan as unknown as Array<{
        'QUERY PLAN': Array<{ Plan: Record<string, unknown> }>;
      }>;
      const root = explained?.['QUERY PLAN'][0]?.Plan;
      expect(root?.['Node Type']).toBe('Function Scan');
      expect(root?.Plans).toBeUndefined();
      expect(root?.['Actual Rows']).toBe(0);
      // Only the caller's own rows pass through the visible filter.
      expect(root?.['Rows Removed by Filter']).toBe(counts.acme + reads.acme);
    });
  });

  it('side channels a mapped reader has: other sessions’ SQL is hidden, EXPLAIN ANALYZE and statistics still count other tenants', async () => {
    const reads = await readRows();
    const total = 60 + reads.all;
    await withClient(roleUrl('aitrail_reader'), async (other) => {
      await other.begin(async (tx) => {
        await tx`select set_config('aitrail.tenant_id', 'globex', true)`;
        await tx`select count(*) from audit_logs where actor_id = 'secret_actor'`;
        await withClient(acme(), async (sql) => {
          const activity = await sql`
            select query from pg_stat_activity where usename = 'aitrail_reader'`;
          expect(activity.length).toBeGreaterThan(0);
          for (const row of activity) expect(row.query).toBe('<insufficient privilege>');

          // Documented, not closed: the plan counts rows the policy removed (an existence
          // oracle), and the table statistics hold every tenant's row count.
          await withClient(superuserUrl, (su) => su`analyze audit_logs`);
          const [stats] = await sql`
            select reltuples::int as n from pg_class where relname = 'audit_logs'`;
          expect(stats?.n).toBe(total);
          const [live] = await sql`
            select sum(s.n_live_tup)::int as n from pg_stat_user_tables s
              join pg_inherits i on i.inhrelid = s.relid
              where i.inhparent = 'audit_logs'::regclass`;
          expect(live?.n).toBe(total);
          // Column statistics (most common values: actor ids, tenants) are hidden under RLS.
          expect(
            await sql`select count(*)::int as n from pg_stats where tablename = 'audit_logs'`,
          ).toEqual([{ n: 0 }]);
          await sql`set enable_indexscan = off`;
          await sql`set enable_bitmapscan = off`;
          const plan = await sql`explain (analyze, format json) select * from audit_logs`;
          const [explained] = plan as unknown as Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>;
          const root = explained?.['QUERY PLAN'][0]?.Plan as PlanNode;
          // audit_logs is partitioned by month: the policy filters each partition's scan.
          const scans = scansOf(root);
          expect(scans.length).toBeGreaterThan(0);
          const sum = (key: 'Actual Rows' | 'Rows Removed by Filter') =>
            scans.reduce((n, scan) => n + (scan[key] ?? 0), 0);
          expect(root['Actual Rows']).toBe(counts.acme + reads.acme);
          expect(sum('Actual Rows')).toBe(counts.acme + reads.acme);
          // Every other row was counted, then removed: globex's, and the reads not acme's.
          expect(sum('Rows Removed by Filter')).toBe(total - counts.acme - reads.acme);
          expect(sum('Rows Removed by Filter')).toBe(counts.globex + reads.globex + reads.none);
        });
      });
    });
  });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/** The table scans of a plan: on a partitioned table, one per partition under the Append. */
function scansOf(node: PlanNode): PlanNode[] {
  if (node['Relation Name'] !== undefined) return [node];
  return (node.Plans ?? []).flatMap(scansOf);
}
