/**
 * Data subjects at scale: the actor, subject and conversation queries (through the vault's
 * indexes) at a small and a 10× larger table, dropping one month's partition, erasing one
 * subject with 1,000 rows, and what the personal-data split costs the writer per record.
 *
 * The large tables are generated in SQL (generate_series) rather than through writers: these
 * figures are about reading and removing, and a writer-made 10M-row table would take most of an
 * hour on two cores. Rows of the second size get users and conversations of their own, so a
 * user of the first size has the same 100 rows at both sizes: the ratio shows how the indexes
 * scale with the table, not how a user's history grows.
 */
import postgres from 'postgres';
import type { AuditStore } from '../src/store/audit-store.js';
import { eraseSubject } from '../src/store/erasure/erase-subject.js';
import { splitPersonalData } from '../src/store/erasure/personal-fields.js';
import { openAuditStore } from '../src/store/open-store.js';
import { type AuditLogFilter, queryAuditLogs } from '../src/store/queries.js';
import { datasetRecord, seededRandom } from './fixtures.js';
import type { BenchPostgres } from './postgres.js';
import { type Figure, figure } from './stats.js';

export interface SubjectsOptions {
  runs: number;
  /** The smaller table; the larger is 10× this. */
  rows: number;
  postgres: BenchPostgres;
  log: (line: string) => void;
}

const GROUP = 'subjects';
const QUERIES_PER_RUN = 30;
const ROWS_PER_USER = 100;
const ROWS_PER_CONVERSATION = 20;

/** Rows `from..to` of phase `phase`, spread over the twelve months of 2026. */
async function generate(sql: postgres.Sql, phase: number, from: number, to: number): Promise<void> {
  const users = Math.max(1, Math.floor((to - from + 1) / ROWS_PER_USER));
  const conversations = Math.max(1, Math.floor((to - from + 1) / ROWS_PER_CONVERSATION));
  const step = 200_000;
  for (let start = from; start <= to; start += step) {
    const end = Math.min(to, start + step - 1);
    await sql.unsafe(
      `WITH batch AS (
         SELECT gen_random_uuid() AS id, g,
           timestamptz '2026-01-01 00:00:00+00' + ((g * 7919) % 31536000) * interval '1 second' AS ts,
           'user-${phase}-' || ((g * 104729) % ${users}) AS actor,
           'conv-${phase}-' || ((g * 31) % ${conversations}) AS conversation
         FROM generate_series(${start}::bigint, ${end}::bigint) g
       ), logs AS (
         INSERT INTO audit_logs (id, event_id, occurred_at, tenant_id, actor_type, actor_id,
           subject_id, action, outcome, conversation_id, metadata, trace_id, span_id,
           service_name, chain_id, chain_seq, prev_hash, hash)
         SELECT id, 'bench:${phase}:' || g, ts, 'tenant-' || (g % 20), 'user', 'c1:' || md5(actor),
           'c1:' || md5(actor || 's'), 'ai.tool_call', 'success', conversation,
           '{"toolName":"lookup_order","personal":"c1:0"}'::jsonb, md5(g::text) || md5(ts::text),
           left(md5(g::text), 16), 'bench', 'bench-${phase}', g, repeat('0', 64), md5(g::text)
         FROM batch
       )
       INSERT INTO audit_personal_data (row_id, occurred_at, tenant_id, subject_id, actor_id,
         personal, salts)
       SELECT id, ts, 'tenant-' || (g % 20), actor, actor,
         jsonb_build_object('toolParams', jsonb_build_object('orderId', 'ORD-' || g)),
         '{"actor":"00","subject":"00","personal":"00"}'::jsonb
       FROM batch`,
    );
  }
}

async function timeQueries(
  store: AuditStore,
  filter: (i: number) => AuditLogFilter,
  runs: number,
): Promise<number[]> {
  const medians: number[] = [];
  for (let run = 0; run < runs; run++) {
    const times: number[] = [];
    for (let i = 0; i < QUERIES_PER_RUN; i++) {
      const started = performance.now();
      await queryAuditLogs(store, { ...filter(run * QUERIES_PER_RUN + i), limit: 100 });
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    medians.push(times[Math.floor(times.length / 2)] as number);
  }
  return medians;
}

export async function benchSubjects(options: SubjectsOptions): Promise<Figure[]> {
  const { runs, rows, log } = options;
  const database = await options.postgres.freshDatabase('subjects');
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  const store = await openAuditStore({ databaseUrl: database.url, migrate: false });
  const figures: Figure[] = [];
  try {
    await sql`SELECT aitrail_ensure_partitions('2026-01-01T00:00:00Z', 12)`;
    const users = rows / ROWS_PER_USER;
    const cases: Array<[string, string, (i: number) => AuditLogFilter]> = [
      ['actor', 'rows of one actor', (i) => ({ actorId: `user-1-${(i * 37) % users}` })],
      ['subject', 'rows about one subject', (i) => ({ subjectId: `user-1-${(i * 53) % users}` })],
      [
        'conversation',
        'rows of one conversation',
        (i) => ({ conversationId: `conv-1-${(i * 17) % (rows / ROWS_PER_CONVERSATION)}` }),
      ],
    ];
    const small = new Map<string, Figure>();
    for (const [phase, size] of [
      [1, rows],
      [2, rows * 10],
    ] as const) {
      const started = performance.now();
      if (phase === 1) await generate(sql, 1, 1, rows);
      else await generate(sql, 2, rows + 1, size);
      await sql`VACUUM ANALYZE audit_logs`;
      await sql`VACUUM ANALYZE audit_personal_data`;
      log(
        `  ${size.toLocaleString('en-US')} rows in ${((performance.now() - started) / 1000).toFixed(0)} s`,
      );
      for (const [id, label, filter] of cases) {
        const samples = await timeQueries(store, filter, runs);
        const base = small.get(id);
        const f = figure({
          group: GROUP,
          id: `subjects.${id}.${phase === 1 ? 'small' : 'large'}`,
          label: `${label} (limit 100), ${size.toLocaleString('en-US')} rows`,
          unit: 'ms',
          samples,
          baseline: base,
          ...(base && {
            target: {
              text: '≤ 2× the smaller table',
              met: samples.length > 0 && f2(samples, base.samples) <= 2,
            },
          }),
        });
        if (!base) small.set(id, f);
        figures.push(f);
      }
    }

    // Erasure of one subject with 1,000 rows, among everyone else's.
    const eraseSamples: number[] = [];
    for (let run = 0; run < runs; run++) {
      const subject = `bench-erase-${run}`;
      await generateSubject(sql, subject, run);
      const started = performance.now();
      const receipt = await eraseSubject(store, { subjectId: subject, reason: 'bench' });
      eraseSamples.push(performance.now() - started);
      if (receipt.rowsErased !== 1000)
        throw new Error(`erased ${receipt.rowsErased} rows, not 1000`);
    }
    figures.push(
      figure({
        group: GROUP,
        id: 'subjects.erase',
        label: `erase one subject with 1,000 rows, ${(rows * 11).toLocaleString('en-US')} rows`,
        unit: 'ms',
        samples: eraseSamples,
        target: { text: '< 1 s', met: median(eraseSamples) < 1000 },
        note: 'eraseSubject(): hold check, vault UPDATE by index, signed receipt, audit event',
      }),
    );

    // Dropping one month: DETACH + DROP of both tables' partitions.
    const dropSamples: number[] = [];
    for (let run = 0; run < Math.min(runs, 6); run++) {
      const month = `2026-${String(run + 1).padStart(2, '0')}-01T00:00:00Z`;
      const started = performance.now();
      await sql`SELECT aitrail_drop_month(${month}::timestamptz)`;
      dropSamples.push(performance.now() - started);
    }
    figures.push(
      figure({
        group: GROUP,
        id: 'subjects.drop_month',
        label: `drop one month's partitions (~${Math.round((rows * 11) / 12).toLocaleString('en-US')} rows)`,
        unit: 'ms',
        samples: dropSamples,
        target: { text: '< 1 s', met: median(dropSamples) < 1000 },
      }),
    );

    // The writer's cost of the split: commitments and salts per record.
    const random = seededRandom(7);
    const records = Array.from({ length: 20_000 }, () => datasetRecord(random, Date.now()));
    const splitSamples: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      for (const record of records) splitPersonalData(record);
      splitSamples.push(((performance.now() - started) * 1000) / records.length);
    }
    figures.push(
      figure({
        group: GROUP,
        id: 'subjects.split',
        label: 'splitPersonalData per record (salts + sha256 commitments)',
        unit: 'µs',
        samples: splitSamples,
      }),
    );
    const [size] = await sql<{ logs: string; vault: string }[]>`
      SELECT (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass) AS logs,
             (SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = 'audit_personal_data'::regclass) AS vault`;
    log(`  sizes after drops: audit_logs ${mib(size?.logs)} MiB, vault ${mib(size?.vault)} MiB`);
  } finally {
    await store.close();
    await sql.end({ timeout: 5 });
    await database.drop();
  }
  return figures;
}

async function generateSubject(sql: postgres.Sql, subject: string, run: number): Promise<void> {
  await sql.unsafe(
    `WITH batch AS (
       SELECT gen_random_uuid() AS id, g,
         timestamptz '2026-07-01 00:00:00+00' + (g * 2311 % 15552000) * interval '1 second' AS ts
       FROM generate_series(1, 1000) g
     ), logs AS (
       INSERT INTO audit_logs (id, event_id, occurred_at, tenant_id, actor_type, actor_id,
         subject_id, action, outcome, metadata, trace_id, span_id, service_name, chain_id,
         chain_seq, prev_hash, hash)
       SELECT id, 'erase:${run}:' || g, ts, 'tenant-1', 'user', 'c1:x', 'c1:y', 'ai.chat_message',
         'success', '{"personal":"c1:z"}'::jsonb, md5(g::text) || md5(ts::text),
         left(md5(g::text), 16), 'bench', 'erase-${run}', g, repeat('0', 64), md5(g::text)
       FROM batch
     )
     INSERT INTO audit_personal_data (row_id, occurred_at, tenant_id, subject_id, actor_id, personal, salts)
     SELECT id, ts, 'tenant-1', '${subject}', '${subject}',
       jsonb_build_object('content', 'message ' || g), '{"actor":"00","subject":"00","personal":"00"}'::jsonb
     FROM batch`,
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function f2(values: number[], base: number[]): number {
  return median(values.map((v, i) => v / (base[i] as number)));
}

function mib(bytes: string | undefined): string {
  return (Number(bytes ?? 0) / 1024 ** 2).toFixed(0);
}
