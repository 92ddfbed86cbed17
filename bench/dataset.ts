/**
 * The table the verify and query benchmarks read: `rows` audit records written by four real
 * `AuditWriter`s at once, each with its own store (four service instances, four hash chains,
 * rows interleaved on disk),
 * with the cardinalities of `DATASET_SHAPE`, then `VACUUM ANALYZE`d as autovacuum would have.
 */
import postgres from 'postgres';
import { openAuditStore } from '../src/store/open-store.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { DATASET_SHAPE, datasetRecord, seededRandom } from './fixtures.js';
import type { BenchDatabase, BenchPostgres } from './postgres.js';
import { sleep, yieldToEventLoop } from './runtime.js';

export const DATASET_WRITERS = 4;
/** Records a writer may hold in memory before the generator waits for it. */
const WRITER_HIGH_WATER = 20_000;

export interface Dataset {
  database: BenchDatabase;
  rows: number;
  chains: number;
  /** When the records' `occurred_at` window ends (`since 24h` is relative to this). */
  generatedAt: number;
  writeSeconds: number;
  tableBytes: number;
  indexBytes: number;
}

export async function generateDataset(server: BenchPostgres, rows: number): Promise<Dataset> {
  const database = await server.freshDatabase('dataset');
  // One store per writer, as four processes would have: a shared postgres.js pool can pipeline a
  // statement behind another writer's in-flight COPY and break the connection (see README).
  const stores = await Promise.all(
    Array.from({ length: DATASET_WRITERS }, () =>
      openAuditStore({ databaseUrl: database.url, migrate: false }),
    ),
  );
  const writers = stores.map(
    (store, i) =>
      new AuditWriter({ store, serviceName: `support-assistant-${i}`, journalDir: null }),
  );
  const random = seededRandom(42);
  const generatedAt = Date.now();
  const started = performance.now();
  try {
    for (let i = 0; i < rows; i++) {
      (writers[i % DATASET_WRITERS] as AuditWriter).enqueue(datasetRecord(random, generatedAt));
      if (i % 1000 !== 999) continue;
      await yieldToEventLoop();
      while (writers.some((w) => w.stats().queueDepth > WRITER_HIGH_WATER)) await sleep(2);
    }
    await Promise.all(writers.map((w) => w.shutdown({ deadlineMs: 600_000 })));
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
  const writeSeconds = (performance.now() - started) / 1000;
  const dropped = writers.reduce((n, w) => n + w.stats().dropped, 0);
  if (dropped > 0) throw new Error(`dataset: the writers dropped ${dropped} records`);

  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    await sql`VACUUM ANALYZE audit_logs`;
    const [size] = await sql<{ n: string; table_bytes: string; index_bytes: string }[]>`
      SELECT (SELECT count(*) FROM audit_logs) AS n,
             pg_table_size('audit_logs') AS table_bytes,
             pg_indexes_size('audit_logs') AS index_bytes`;
    if (Number(size?.n) !== rows) throw new Error(`dataset: ${size?.n} rows, expected ${rows}`);
    return {
      database,
      rows,
      chains: DATASET_WRITERS,
      generatedAt,
      writeSeconds,
      tableBytes: Number(size?.table_bytes),
      indexBytes: Number(size?.index_bytes),
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export function describeDataset(d: Dataset): string {
  const s = DATASET_SHAPE;
  return (
    `${d.rows.toLocaleString('en-US')} rows in ${d.chains} hash chains (4 concurrent AuditWriters, ` +
    `${Math.round(d.rows / d.writeSeconds).toLocaleString('en-US')} rows/s while generating), ` +
    `${s.actors.toLocaleString('en-US')} actors, ${s.conversations.toLocaleString('en-US')} conversations, ` +
    `${s.tenants} tenants, occurred_at over ${s.days} days, ${s.serviceShare * 100}% from one service actor; ` +
    `table ${(d.tableBytes / 1024 ** 2).toFixed(0)} MiB + indexes ${(d.indexBytes / 1024 ** 2).toFixed(0)} MiB`
  );
}
