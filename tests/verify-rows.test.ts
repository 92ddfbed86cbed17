/**
 * Verify reads rows as binary COPY tuples and writes each row's canonical JSON straight from the
 * bytes. These tests hold that fast path to the reference (`checkRowHash`: JSON.parse, then
 * canonicalJson) on values chosen to break it, on real Postgres and on PGlite.
 */
import fc from 'fast-check';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../src/store/audit-record.js';
import { canonicalJson } from '../src/store/canonical-json.js';
import { chainIdLiteral, readChainRows } from '../src/store/verify/chain-rows.js';
import { verifyAuditChains } from '../src/store/verify/index.js';
import { JsonbWriter } from '../src/store/verify/jsonb-canonical.js';
import { RowChecker } from '../src/store/verify/row-check.js';
import { checkRowHash, type RowForVerify } from '../src/store/verify/rows.js';
import { rowOfTuple, timestampText } from '../src/store/verify/verify-row.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { createCheckpointSigner } from '../src/store/writer/checkpoint-signer.js';
import { testDatabaseUrl } from './support/postgres.js';
import { makeRecord } from './support/records.js';
import { BACKENDS, openTestStore, type TestStore } from './support/stores.js';

const signer = createCheckpointSigner('verify-lines-test-signing-key-0123');

const AWKWARD_TEXT = [
  'plain',
  '',
  'a "quoted" word',
  'back\\slash and \\N and \\t',
  'tab\there, newline\nthere, return\rthere',
  'bell \u0007, backspace \b, form feed \f, vertical tab \v, unit separator \u001f',
  'delete \u007f',
  'é à ü ß',
  '日本語のテキスト',
  'emoji 😀 and 👩‍👩‍👧',
  'private use \ue000 and \uffee',
  'line separator \u2028 paragraph \u2029',
  'null',
  '\\N',
];

const AWKWARD_METADATA: Array<AuditRecord['metadata']> = [
  {},
  { b: 1, a: 2, aa: 3, B: 4, _: 5, Z: 6, '10': 7, '9': 8, '': 9 },
  { é: 1, e: 2, '😀': 3, '\ue000': 4, '\uffee': 5, z: 6 },
  { 'a"b': 1, 'back\\slash': 2, 'tab\tkey': 3, 'new\nline': 4 },
  {
    numbers: [0, 1, -1, 1.5, -2.25, 490.35, 1e21, 1e-7, 0.000001, 123456789012345, 2 ** 53 + 2],
    more: [0.1 + 0.2, 5e-324, 1.7976931348623157e308, 100000000000000000000, 1e-6, 2.5066],
  },
  { nested: { deeper: { deepest: [[], {}, [{}], { k: [null, true, false] }] } } },
  { toolParams: { query: 'say "hi"\n\tthen \\leave', list: AWKWARD_TEXT } },
  { content: [{ role: 'user', content: AWKWARD_TEXT.join(' | ') }] },
];

/** Records whose every text column and metadata holds something awkward. */
function awkwardRecords(): AuditRecord[] {
  const records: AuditRecord[] = [];
  AWKWARD_TEXT.forEach((text, i) => {
    records.push(
      makeRecord(i, {
        tenantId: text,
        actorId: `actor ${text}`,
        resourceType: i % 2 === 0 ? text : null,
        resourceId: i % 3 === 0 ? null : text,
        agentName: text,
        metadata: AWKWARD_METADATA[i % AWKWARD_METADATA.length] ?? {},
      }),
    );
  });
  AWKWARD_METADATA.forEach((metadata, i) => {
    records.push(makeRecord(100 + i, { metadata }));
  });
  return records;
}

async function writeChain(store: TestStore['store'], records: AuditRecord[]): Promise<string> {
  const writer = new AuditWriter({
    store,
    serviceName: 'verify-lines-test',
    journalDir: null,
    batchSize: 7,
    maxInFlight: 1,
    checkpoints: { everyRecords: 5, signer },
  });
  for (const record of records) writer.enqueue(record);
  await writer.flush();
  await writer.shutdown();
  return writer.chainId;
}

async function rowsOf(store: TestStore['store'], chainId: string): Promise<Buffer[]> {
  const rows: Buffer[] = [];
  await readChainRows(store, {
    chainId,
    afterSeq: 0,
    throughSeq: null,
    // Small pages, so the keyset paging is exercised too.
    pageRows: 4,
    onRow: (row) => rows.push(Buffer.from(row)),
  });
  return rows;
}

function fieldsOf(tuple: Buffer): RowForVerify {
  const row = rowOfTuple(tuple);
  if (row === null) throw new Error('unreadable row');
  return row;
}

describe.each(BACKENDS)('verify reads rows as binary COPY tuples (%s)', (backend) => {
  let t: TestStore;
  let chainId: string;
  const records = awkwardRecords();

  beforeAll(async () => {
    t = await openTestStore(backend);
    chainId = await writeChain(t.store, records);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('reads every row once, in sequence order, across pages', async () => {
    const rows = await rowsOf(t.store, chainId);
    expect(rows.map((row) => Number(fieldsOf(row).chain_seq))).toEqual(
      records.map((_, i) => i + 1),
    );
  });

  it('writes exactly the canonical fields the reference check hashes, for every awkward value', async () => {
    const checker = new RowChecker(2, 0);
    for (const tuple of await rowsOf(t.store, chainId)) {
      const row = fieldsOf(tuple);
      const reference = checkRowHash(row, Number(row.chain_seq), 0, 2);
      expect(reference.ok).toBe(true);
      if (!reference.ok) continue;
      expect(checker.canonicalText(tuple)).toBe(reference.canonical);
    }
  });

  it('decides every row on the fast path, with the reference path left for rows it cannot write', async () => {
    const checker = new RowChecker(2, 0);
    for (const tuple of await rowsOf(t.store, chainId)) {
      checker.check(tuple);
      expect(checker.ok).toBe(true);
      expect(checker.leaf).not.toBeNull();
    }
    expect(checker.slowRows).toBe(0);
  });

  it('the whole chain verifies, every tree head reproduced', async () => {
    const report = await verifyAuditChains(t.store, { chainId, signer });
    expect(report.failures).toEqual([]);
    expect(report.rowsChecked).toBe(records.length);
    expect(report.chains[0]?.checkpoints.verified).toBeGreaterThan(3);
  });
});

describe("what verify writes from the database's bytes, held to the database itself", () => {
  let sql: postgres.Sql;

  beforeAll(async () => {
    sql = postgres(await testDatabaseUrl(), { onnotice: () => {}, max: 1 });
  });

  afterAll(async () => {
    await sql?.end();
  });

  /** What the fast path writes for jsonb text, unescaped from its outer JSON string; null: gave up. */
  function fast(jsonbText: string): string | null {
    const writer = new JsonbWriter();
    const src = Buffer.from(jsonbText, 'utf8');
    writer.reserve(src.length);
    const end = writer.write(src, 0, src.length, 0);
    return end < 0 ? null : (JSON.parse(`"${writer.out.toString('utf8', 0, end)}"`) as string);
  }

  it("jsonb text is rewritten as canonicalJson's bytes, or the fast path gives up", async () => {
    const values: unknown[] = [...AWKWARD_METADATA, ...AWKWARD_TEXT.map((text) => ({ text }))];
    // Random values: keys and strings from an awkward alphabet, numbers of every size.
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = ['a', 'B', '"', '\\', '\n', 'é', '😀', '\ue000', '0', '1', ' ', '\u0001'];
    const text = () =>
      Array.from(
        { length: Math.floor(random() * 6) },
        () => alphabet[Math.floor(random() * 12)],
      ).join('');
    const value = (depth: number): unknown => {
      const pick = random();
      if (depth > 3 || pick < 0.3) return text();
      if (pick < 0.5) return (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20);
      if (pick < 0.55) return Math.floor(random() * 1e6);
      if (pick < 0.6) return random() < 0.5;
      if (pick < 0.65) return null;
      if (pick < 0.8)
        return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(random() * 6) }, () => [text(), value(depth + 1)]),
      );
    };
    for (let i = 0; i < 400; i++) values.push({ v: value(0) });

    const stored = await sql<{ text: string }[]>`
      SELECT v::jsonb::text AS text FROM unnest(${values.map((v) => JSON.stringify(v))}::text[]) v`;
    let decided = 0;
    stored.forEach((row, i) => {
      const got = fast(row.text);
      if (got === null) return;
      decided += 1;
      expect(got, row.text).toBe(canonicalJson(JSON.parse(JSON.stringify(values[i]))));
    });
    // Giving up is allowed (here: keys with escapes or characters past U+DFFF, which this
    // alphabet makes common), but must stay the exception.
    expect(decided).toBeGreaterThan(values.length * 0.75);
  });

  it('for any nested jsonb, the fast path writes byte for byte what the reference writes from the same text, or gives up', async () => {
    // Keys whose length-first order (jsonb's) and byte order (canonical) disagree, array-index
    // keys, keys past ASCII and ones needing escapes; strings and numbers of every kind.
    const plainKeys = fc.constantFrom(
      ...['a', 'b', 'B', '_', 'z', 'aa', 'ab', 'ba', 'zz', 'aaa', 'a0', '0', '1', '9', '10'],
      ...['__proto__', 'content', 'role', 'inputTokens', 'input', 'Input', 'é', 'ÿ', 'ē', '日'],
    );
    const awkwardKeys = fc.constantFrom('\ue000', 'a"b', 'back\\slash', 'tab\t', '😀', '\u007f');
    const text = fc
      .string({ unit: 'binary', maxLength: 12 })
      // jsonb holds no U+0000 and no lone surrogate (UTF-8 makes those U+FFFD).
      .map((t) => Buffer.from(t.replaceAll('\u0000', ''), 'utf8').toString('utf8'));
    const key = fc.oneof(
      { arbitrary: plainKeys, weight: 100 },
      { arbitrary: awkwardKeys, weight: 1 },
      { arbitrary: text, weight: 1 },
    );
    const number = fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(0, -0, 0.1, 1e21, 1e-7, 1e-6, 5e-324, 2 ** 53 + 2, 123456789012345, 490.35),
    );
    const { json } = fc.letrec((tie) => ({
      json: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        text,
        number,
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('json'), { maxLength: 4 }),
        fc.dictionary(key, tie('json'), { maxKeys: 12 }),
      ),
    }));
    const shallow = fc.sample(fc.dictionary(key, json, { minKeys: 1, maxKeys: 12 }), {
      numRuns: 600,
      seed: 17,
    });
    // And some far deeper than the generator goes: objects in arrays in objects, 30 levels.
    const samples = shallow.flatMap((v, i) => {
      if (i % 10 !== 0) return [v];
      let deep: unknown = v;
      for (let d = 0; d < 30; d++)
        deep = d % 2 === 0 ? { zz: deep, a: d, ab: [] } : [deep, { b: d }];
      return [v, deep];
    });
    const stored = await sql<{ text: string }[]>`
      SELECT v::jsonb::text AS text FROM unnest(${samples.map((v) => JSON.stringify(v))}::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n`;
    let decided = 0;
    for (const row of stored) {
      const got = fast(row.text);
      if (got === null) continue;
      decided += 1;
      // The reference: what verify's slow path hashes for the same text from the database.
      expect(got, row.text).toBe(canonicalJson(JSON.parse(row.text)));
    }
    expect(decided).toBeGreaterThan(stored.length / 2);
  });

  it('timestamps are written as to_char wrote them, from year 1 to 9999, to the microsecond', async () => {
    const times = [
      '2026-11-27T09:00:00.123456Z',
      '2026-11-27T09:00:00Z',
      '2000-01-01T00:00:00Z',
      '1999-12-31T23:59:59.999999Z',
      '1970-01-01T00:00:00.000001Z',
      '2024-02-29T12:34:56.5Z',
      '2100-03-01T00:00:00Z',
      '0001-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999999Z',
      '1582-10-15T00:00:00Z',
    ];
    for (let i = 0; i < 200; i++) {
      const ms =
        Date.UTC(1, 0, 1) +
        Math.floor((((i * 7919) % 1000) / 1000) * (Date.UTC(9999, 11, 31) - Date.UTC(1, 0, 1)));
      times.push(
        new Date(ms).toISOString().replace('Z', `${String((i * 37) % 1000).padStart(3, '0')}Z`),
      );
    }
    const rows = await sql<{ micros: string; text: string }[]>`
      SELECT ((extract(epoch FROM t) - extract(epoch FROM '2000-01-01T00:00:00Z'::timestamptz)) * 1000000)::int8::text AS micros,
             to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS text
      FROM unnest(${times}::timestamptz[]) t`;
    for (const row of rows) expect(timestampText(BigInt(row.micros))).toBe(row.text);
    // Outside years 1 to 9999 no writer produced the time: written so that it never matches.
    expect(timestampText(-63_200_000_000_000_000n)).toMatch(/out of range/);
  });

  it('a chain id cannot change the statement it is spelled into', async () => {
    const ids = [
      "x'; drop table audit_logs; --",
      'x$chain$; drop table audit_logs; --',
      'x$chain',
      '$chain$',
      'ends with $',
      '$chain0$$chain$',
      "back\\slash \\' quote",
      '日本 😀',
    ];
    for (const id of ids) {
      const [row] = await sql.unsafe(`SELECT ${chainIdLiteral(id)} AS id`);
      expect(row?.id).toBe(id);
    }
  });
});

describe('rows checked on walk threads', () => {
  it('give the same report as rows checked on the verifying thread, failures included', async () => {
    const t = await openTestStore('postgres');
    try {
      const chainId = await writeChain(t.store, awkwardRecords());
      const url = t.databaseUrl as string;
      const sql = postgres(url, { onnotice: () => {}, max: 1 });
      await sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update audit_logs set outcome = 'denied' where chain_id = ${chainId} and chain_seq = 4`;
        await tx`delete from audit_logs where chain_id = ${chainId} and chain_seq = 9`;
        await tx`update audit_logs set metadata = '{"a": 1e400}' where chain_id = ${chainId} and chain_seq = 12`;
      });
      await sql.end();
      const options = { chainId, signer, pageSize: 3 };
      const here = await verifyAuditChains(t.store, { ...options, threads: false });
      const threaded = await verifyAuditChains(t.store, { ...options, threads: true });
      const at = (seq: number) =>
        here.failures.filter((f) => f.chainSeq === seq).map((f) => f.kind);
      expect(at(4)).toContain('modified_row');
      expect(at(10)).toContain('deleted_row');
      expect(at(12)).toContain('modified_row');
      expect(here.failures.map((f) => f.kind)).toContain('rewritten_chain');
      expect(here.failures.find((f) => f.chainSeq === 12)?.detail).toMatch(/not representable/);
      expect(here.threads).toBe(0);
      expect(threaded.threads).toBe(1);
      const { verified: _a, threads: _c, ...hereReport } = here;
      const { verified: _b, threads: _d, ...threadedReport } = threaded;
      expect(threadedReport).toEqual(hereReport);
    } finally {
      await t.close();
    }
  });
});

describe('the COPY connection verify reads through', () => {
  it('answers the next copy after a copy whose reader held it back', async () => {
    const t = await openTestStore('postgres');
    try {
      const copyOut = t.store.copyOut?.bind(t.store);
      if (!copyOut) throw new Error('the Postgres store streams COPY');
      for (let round = 0; round < 6; round++) {
        const stream = await copyOut(
          "COPY (SELECT i, repeat('x', 200) FROM generate_series(1, 20000) i) TO STDOUT",
        );
        let bytes = 0;
        // A slow reader: the stream's buffer fills, and postgres.js pauses its socket.
        for await (const chunk of stream) {
          bytes += (chunk as Buffer).length;
          if (bytes % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
          else await new Promise((resolve) => setImmediate(resolve));
        }
        expect(bytes).toBeGreaterThan(20000 * 200);
      }
      const last = await copyOut('COPY (SELECT 1) TO STDOUT');
      const chunks: Buffer[] = [];
      for await (const chunk of last) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('1\n');
    } finally {
      await t.close();
    }
  }, 60_000);

  it('is planned to stream from an index, never to scan and sort the table, and leaves the writer its own plans', async () => {
    const t = await openTestStore('postgres');
    try {
      const copyOut = t.store.copyOut?.bind(t.store);
      if (!copyOut) throw new Error('the Postgres store streams COPY');
      const names = ['enable_seqscan', 'enable_sort', 'max_parallel_workers_per_gather', 'jit'];
      const select = names.map((n) => `current_setting('${n}')`).join(', ');
      const stream = await copyOut(`COPY (SELECT ${select}) TO STDOUT`);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('off\toff\t0\toff\n');
      const [writer] = await t.store.query<{ seqscan: string }>(
        "SELECT current_setting('enable_seqscan') AS seqscan",
      );
      expect(writer?.seqscan).toBe('on');
    } finally {
      await t.close();
    }
  });
});
