/**
 * Queries: latency of the compliance queries over the generated table, and the plan Postgres
 * picks for each. The SQL is the one `queryAuditLogs` itself builds: it runs once against a
 * drizzle instance with a query logger (the same schema, its own connection), and that SQL with
 * its parameters is then explained with `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`.
 */
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { AuditStore } from '../src/store/audit-store.js';
import { openAuditStore } from '../src/store/open-store.js';
import { type AuditLogFilter, queryAuditLogs } from '../src/store/queries.js';
import * as schema from '../src/store/schema.js';
import type { Dataset } from './dataset.js';
import { DATASET_SHAPE, seededRandom } from './fixtures.js';
import { type Figure, figure, percentile } from './stats.js';

export interface QueriesOptions {
  runs: number;
  dataset: Dataset;
}

const GROUP = 'queries';
const QUERIES_PER_RUN = 40;
const DAY_MS = 86_400_000;

interface QueryCase {
  id: string;
  label: string;
  /** The filter of the i-th query of a run: a different actor or conversation each time. */
  filter(i: number): AuditLogFilter;
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

interface PlanSummary {
  indexes: string[];
  nodes: string[];
  seqScan: boolean;
  executionMs: number;
  rows: number;
  sql: string;
}

function walk(node: PlanNode, visit: (n: PlanNode) => void): void {
  visit(node);
  for (const child of node.Plans ?? []) walk(child, visit);
}

async function explain(url: string, filter: AuditLogFilter): Promise<PlanSummary> {
  const client = postgres(url, {
    max: 1,
    onnotice: () => {},
    connection: { TimeZone: 'UTC' },
  });
  try {
    const captured: Array<{ query: string; params: unknown[] }> = [];
    const db = drizzle(client, {
      schema,
      logger: { logQuery: (query, params) => captured.push({ query, params }) },
    });
    // queryAuditLogs reads `store.db` only (no tenantId here, so no RLS transaction).
    const rows = await queryAuditLogs({ db } as unknown as AuditStore, filter);
    const logged = captured.at(-1);
    if (!logged) throw new Error('queries: drizzle logged no SQL for queryAuditLogs');
    const [row] = await client.unsafe<
      Array<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>
    >(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${logged.query}`, logged.params as string[]);
    const plan = row?.['QUERY PLAN'][0];
    if (!plan) throw new Error('queries: EXPLAIN returned no plan');
    const indexes = new Set<string>();
    const nodes: string[] = [];
    let seqScan = false;
    walk(plan.Plan, (n) => {
      nodes.push(n['Index Name'] ? `${n['Node Type']} using ${n['Index Name']}` : n['Node Type']);
      if (n['Index Name']) indexes.add(n['Index Name']);
      if (n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'audit_logs') seqScan = true;
    });
    return {
      indexes: [...indexes],
      nodes,
      seqScan,
      executionMs: plan['Execution Time'],
      rows: rows.length,
      sql: logged.query,
    };
  } finally {
    await client.end({ timeout: 5 });
  }
}

function planNote(plan: PlanSummary): string {
  const index =
    plan.indexes.length > 0 ? `index used: ${plan.indexes.join(', ')}` : 'NO index used';
  return `${index}${plan.seqScan ? ' (and a Seq Scan on audit_logs)' : ''}; plan ${plan.nodes.join(' → ')}; ${plan.rows} rows, ${plan.executionMs.toFixed(2)} ms in EXPLAIN ANALYZE`;
}

export async function benchQueries(options: QueriesOptions): Promise<Figure[]> {
  const { dataset } = options;
  const random = seededRandom(7);
  const actors = Array.from(
    { length: QUERIES_PER_RUN },
    () => `user-${Math.floor(random() * DATASET_SHAPE.actors)}`,
  );
  const conversations = Array.from(
    { length: QUERIES_PER_RUN },
    () => `conv-${Math.floor(random() * DATASET_SHAPE.conversations)}`,
  );
  // What `aitrail logs --since 24h` computes: 24 hours before now.
  const since = () => new Date(Date.now() - DAY_MS);
  const cases: QueryCase[] = [
    {
      id: 'q.actor',
      label:
        'aitrail logs --actor X --since 24h --limit 100 (queryAuditLogs, a random user each time)',
      filter: (i) => ({ actorId: actors[i] as string, since: since(), limit: 100 }),
    },
    {
      id: 'q.actor.busy',
      label: `the same for the busiest actor (${DATASET_SHAPE.serviceActor}, ${DATASET_SHAPE.serviceShare * 100}% of rows)`,
      filter: () => ({ actorId: DATASET_SHAPE.serviceActor, since: since(), limit: 100 }),
    },
    {
      id: 'q.conv',
      label: "conversation timeline: queryAuditLogs({ conversationId, order: 'asc' })",
      filter: (i) => ({ conversationId: conversations[i] as string, order: 'asc' }),
    },
  ];

  const store = await openAuditStore({ databaseUrl: dataset.database.url, migrate: false });
  const medians = new Map<string, number[]>([
    ['q.base', []],
    ...cases.map((c) => [c.id, []] as [string, number[]]),
  ]);
  const all = new Map<string, number[]>([
    ['q.base', []],
    ...cases.map((c) => [c.id, []] as [string, number[]]),
  ]);
  try {
    const time = async (fn: () => Promise<unknown>) => {
      const started = performance.now();
      await fn();
      return performance.now() - started;
    };
    for (let run = -1; run < options.runs; run++) {
      const round = new Map<string, number[]>([...medians.keys()].map((id) => [id, []]));
      for (let i = 0; i < QUERIES_PER_RUN; i++) {
        round.get('q.base')?.push(await time(() => store.query('SELECT 1')));
        for (const c of cases) {
          round.get(c.id)?.push(await time(() => queryAuditLogs(store, c.filter(i))));
        }
      }
      if (run < 0) continue;
      for (const [id, latencies] of round) {
        const sorted = [...latencies].sort((x, y) => x - y);
        medians.get(id)?.push(sorted[Math.floor(sorted.length / 2)] as number);
        all.get(id)?.push(...latencies);
      }
    }
  } finally {
    await store.close();
  }

  const rows = dataset.rows.toLocaleString('en-US');
  const base = figure({
    group: GROUP,
    id: 'q.base',
    label: 'baseline: SELECT 1 round trip through the same store',
    unit: 'ms',
    samples: medians.get('q.base') ?? [],
  });
  const figures = [base];
  for (const c of cases) {
    const plan = await explain(dataset.database.url, c.filter(0));
    const p95 = percentile(all.get(c.id) ?? [], 95);
    figures.push(
      figure({
        group: GROUP,
        id: c.id,
        label: `${c.label}, ${rows} rows`,
        unit: 'ms',
        samples: medians.get(c.id) ?? [],
        baseline: base,
        note: `p95 ${p95.toFixed(2)} ms; ${planNote(plan)}`,
        details: { p95Ms: p95, plan },
      }),
    );
  }
  return figures;
}
