import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../src/store/audit-store.js';
import { canonicalJson } from '../src/store/canonical-json.js';
import {
  computeRowHash,
  GENESIS_HASH,
  HashChain,
  type HashedFields,
} from '../src/store/hash-chain.js';
import { openAuditStore } from '../src/store/open-store.js';
import { type TamperKind, verifyAuditChains } from '../src/store/verify/index.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { createCheckpointSigner } from '../src/store/writer/checkpoint-signer.js';
import { runCli } from './support/cli.js';
import { testDatabaseUrl } from './support/postgres.js';
import { makeRecord } from './support/records.js';
import { scratchDir } from './support/stores.js';

const SIGNING_KEY = 'integrity-test-signing-key-0123456789';
const signer = createCheckpointSigner(SIGNING_KEY);
const ROWS = 50;

describe('tamper evidence on real Postgres', () => {
  let url: string;
  let store: AuditStore;
  let sql: postgres.Sql;

  beforeAll(async () => {
    url = await testDatabaseUrl();
    store = await openAuditStore(url);
    sql = postgres(url, { onnotice: () => {}, max: 2 });
  });

  afterAll(async () => {
    await sql?.end();
    await store?.close();
  });

  /** Writes one chain of ROWS rows with a signed checkpoint every 10 rows and at shutdown. */
  async function writeChain(): Promise<string> {
    const writer = new AuditWriter({
      store,
      serviceName: 'integrity-test',
      journalDir: null,
      batchSize: 10,
      // One batch at a time, so a checkpoint follows every 10 rows.
      maxInFlight: 1,
      checkpoints: { everyRecords: 10, signer },
    });
    for (let i = 0; i < ROWS; i++) writer.enqueue(makeRecord(i));
    await writer.flush();
    await writer.shutdown();
    return writer.chainId;
  }

  async function eventIdAt(chainId: string, seq: number): Promise<string> {
    const [row] =
      await sql`select event_id from audit_logs where chain_id = ${chainId} and chain_seq = ${seq}`;
    return row?.event_id as string;
  }

  /** Runs statements as a superuser who bypasses the append-only triggers. */
  async function tamper(fn: (tx: postgres.TransactionSql) => Promise<unknown>): Promise<void> {
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await fn(tx);
    });
  }

  async function firstFailure(chainId: string) {
    const report = await verifyAuditChains(store, { chainId, signer });
    expect(report.ok).toBe(false);
    return report.chains[0]?.firstFailure;
  }

  function expectFailure(
    failure: Awaited<ReturnType<typeof firstFailure>>,
    kind: TamperKind,
    eventId: string | null,
  ) {
    expect(failure?.kind).toBe(kind);
    expect(failure?.eventId).toBe(eventId);
  }

  it('an untouched chain verifies, with every checkpoint signature checked', async () => {
    const chainId = await writeChain();
    const report = await verifyAuditChains(store, { chainId, signer });
    expect(report.ok).toBe(true);
    expect(report.signatures).toBe('verified');
    expect(report.chains[0]).toMatchObject({
      chainId,
      rowsChecked: ROWS,
      firstSeq: 1,
      lastSeq: ROWS,
      failures: 0,
    });
    expect(report.chains[0]?.checkpoints.verified).toBeGreaterThanOrEqual(5);
  });

  it('detects a modified row', async () => {
    const chainId = await writeChain();
    const target = await eventIdAt(chainId, 17);
    await tamper((tx) => tx`update audit_logs set outcome = 'denied' where event_id = ${target}`);
    expectFailure(await firstFailure(chainId), 'modified_row', target);
  });

  it('detects modified metadata', async () => {
    const chainId = await writeChain();
    const target = await eventIdAt(chainId, 3);
    await tamper(
      (tx) =>
        tx`update audit_logs set metadata = jsonb_set(metadata, '{toolName}', '"refund"') where event_id = ${target}`,
    );
    expectFailure(await firstFailure(chainId), 'modified_row', target);
  });

  it('detects a deleted row at the row after the gap', async () => {
    const chainId = await writeChain();
    const deleted = await eventIdAt(chainId, 23);
    const next = await eventIdAt(chainId, 24);
    await tamper((tx) => tx`delete from audit_logs where event_id = ${deleted}`);
    const failure = await firstFailure(chainId);
    expectFailure(failure, 'deleted_row', next);
    expect(failure?.chainSeq).toBe(24);
    expect(failure?.detail).toContain('seq 23');
  });

  it('detects a forged row that does not link to the chain', async () => {
    const chainId = await writeChain();
    const forgedEventId = `${'f'.repeat(32)}:${'e'.repeat(16)}`;
    const forged = {
      id: '01a21c6d-0000-7000-8000-000000000001',
      event_id: forgedEventId,
      occurred_at: '2026-11-27T10:00:00.000000Z',
      tenant_id: 'acme',
      actor_type: 'user',
      actor_id: 'user_mallory',
      action: 'ai.approval_approved',
      outcome: 'success',
      resource_type: null,
      resource_id: null,
      conversation_id: null,
      task_id: null,
      agent_name: null,
      tool_name: 'issue_refund',
      approval_id: 'appr_forged',
      metadata: '{}',
      trace_id: 'f'.repeat(32),
      span_id: 'e'.repeat(16),
      service_name: 'integrity-test',
      subject_id: null,
      chain_id: chainId,
      chain_seq: ROWS + 1,
    } satisfies HashedFields;
    // Self-consistent hash, but linked to a made-up predecessor.
    const prev = 'a'.repeat(64);
    const hash = computeRowHash(prev, forged);
    await tamper(
      (tx) =>
        tx`insert into audit_logs ${tx({ ...forged, metadata: {}, prev_hash: prev, hash } as never)}`,
    );
    expectFailure(await firstFailure(chainId), 'forged_row', forgedEventId);
  });

  it('detects a truncated tail through the checkpoint beyond the last row', async () => {
    const chainId = await writeChain();
    await tamper(
      (tx) => tx`delete from audit_logs where chain_id = ${chainId} and chain_seq > ${ROWS - 3}`,
    );
    const failure = await firstFailure(chainId);
    expectFailure(failure, 'truncated_tail', await eventIdAt(chainId, ROWS - 3));
    expect(failure?.detail).toContain(`seq ${ROWS}`);
  });

  it('detects a forged checkpoint by its signature', async () => {
    const chainId = await writeChain();
    await tamper(
      (tx) =>
        tx`update audit_checkpoints set head_hash = ${'b'.repeat(64)} where chain_id = ${chainId} and chain_seq = 20`,
    );
    const failure = await firstFailure(chainId);
    expect(failure?.kind).toBe('forged_checkpoint');
    expect(failure?.chainSeq).toBe(20);
  });

  it('detects reordered rows and says where the row was sealed', async () => {
    const chainId = await writeChain();
    const tenth = await eventIdAt(chainId, 10);
    await tamper(async (tx) => {
      await tx`update audit_logs set chain_seq = -1 where chain_id = ${chainId} and chain_seq = 10`;
      await tx`update audit_logs set chain_seq = 10 where chain_id = ${chainId} and chain_seq = 12`;
      await tx`update audit_logs set chain_seq = 12 where chain_id = ${chainId} and chain_seq = -1`;
    });
    const twelfth = await eventIdAt(chainId, 10);
    expect(twelfth).not.toBe(tenth);
    const failure = await firstFailure(chainId);
    expectFailure(failure, 'reordered_row', twelfth);
    expect(failure?.detail).toContain('sealed at seq 12');
  });

  it('detects a chain recomputed after the fact through its signed checkpoints', async () => {
    const chainId = await writeChain();
    // The attacker edits row 25 and recomputes every later hash: links and hashes all hold.
    const rows = await sql`
      select id::text, event_id, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as occurred_at,
        tenant_id, actor_type, actor_id, action, outcome, resource_type, resource_id, conversation_id, task_id,
        agent_name, tool_name, approval_id, metadata::text as metadata, trace_id, span_id, service_name, subject_id,
        chain_id, chain_seq, prev_hash, hash
      from audit_logs where chain_id = ${chainId} order by chain_seq`;
    let prev = GENESIS_HASH;
    await tamper(async (tx) => {
      for (const row of rows) {
        const seq = Number(row.chain_seq);
        if (seq < 25) {
          prev = row.hash as string;
          continue;
        }
        const outcome = seq === 25 ? 'denied' : (row.outcome as string);
        const metadata = JSON.stringify(JSON.parse(row.metadata as string));
        const {
          prev_hash: _prev,
          hash: _hash,
          ...hashed
        } = row as unknown as HashedFields & { prev_hash: string; hash: string };
        const fields: HashedFields = {
          ...hashed,
          outcome,
          metadata: canonicalJson(JSON.parse(metadata)),
          subject_id: (row.subject_id as string | null) ?? null,
          chain_seq: seq,
        };
        const hash = computeRowHash(prev, fields);
        await tx`update audit_logs set outcome = ${outcome}, prev_hash = ${prev}, hash = ${hash} where event_id = ${row.event_id as string}`;
        prev = hash;
      }
    });
    const failure = await firstFailure(chainId);
    expect(failure?.kind).toBe('rewritten_chain');
    expect(failure?.chainSeq).toBe(30);
  });

  it('with a signing key, reports a rewritten chain whose checkpoints were downgraded to unsigned', async () => {
    const chainId = await writeChain();
    await tamper(
      (tx) =>
        tx`update audit_checkpoints set algorithm = 'none', signature = null, key_id = null where chain_id = ${chainId}`,
    );
    const failure = await firstFailure(chainId);
    expect(failure?.kind).toBe('forged_checkpoint');
    expect(failure?.detail).toContain('unsigned');
  });

  it("reports a row appended after the chain's final checkpoint, even with a valid link and a plain INSERT", async () => {
    const chainId = await writeChain();
    const [last] =
      await sql`select * from audit_logs where chain_id = ${chainId} and chain_seq = ${ROWS}`;
    const [final] =
      await sql`select final from audit_checkpoints where chain_id = ${chainId} order by chain_seq desc, final desc limit 1`;
    expect(final?.final).toBe(true);
    const appended = {
      id: '01a21c6d-0000-7000-8000-0000000000aa',
      event_id: `${'c'.repeat(32)}:${'d'.repeat(16)}`,
      occurred_at: '2026-11-27T11:00:00.000000Z',
      tenant_id: 'acme',
      actor_type: 'user',
      actor_id: 'ceo',
      action: 'ai.approval_approved',
      outcome: 'success',
      resource_type: null,
      resource_id: null,
      conversation_id: null,
      task_id: null,
      agent_name: null,
      tool_name: null,
      approval_id: null,
      metadata: '{}',
      trace_id: 'c'.repeat(32),
      span_id: 'd'.repeat(16),
      service_name: 'integrity-test',
      subject_id: null,
      chain_id: chainId,
      chain_seq: ROWS + 1,
    } satisfies HashedFields;
    const hash = computeRowHash(last?.hash as string, appended);
    // No trigger bypass needed: an INSERT is what the writer role may do.
    await sql`insert into audit_logs ${sql({ ...appended, metadata: {}, prev_hash: last?.hash, hash } as never)}`;
    const failure = await firstFailure(chainId);
    expectFailure(failure, 'forged_row', appended.event_id);
    expect(failure?.detail).toContain('final checkpoint');
  });

  // audit_logs is partitioned by occurred_at (0004), so a chain position is unique only
  // together with its time: a squatter at another time is not refused by the database, and
  // verify is what finds it.
  it('verify points at a chain position someone else took', async () => {
    const journalDir = scratchDir();
    const writer = new AuditWriter({ store, journalDir, checkpoints: { signer } });
    for (let i = 0; i < 10; i++) writer.enqueue(makeRecord(i));
    await writer.flush();
    const [tail] =
      await sql`select * from audit_logs where chain_id = ${writer.chainId} and chain_seq = 10`;
    const squatter: Record<string, unknown> = {
      ...(tail as Record<string, unknown>),
      id: '01a21c6d-0000-7000-8000-0000000000bb',
      event_id: `${'e'.repeat(32)}:${'f'.repeat(16)}`,
      chain_seq: 11,
      prev_hash: tail?.hash,
      hash: 'f'.repeat(64),
    };
    delete squatter.recorded_at;
    await sql`insert into audit_logs ${sql(squatter as never)}`;
    const late = Array.from({ length: 5 }, (_, i) => makeRecord(100 + i));
    for (const record of late) writer.enqueue(record);
    await writer.shutdown();
    expect(writer.stats()).toMatchObject({ dropped: 0 });
    const report = await verifyAuditChains(store, { chainId: writer.chainId, signer });
    expect(report.ok).toBe(false);
    expect(report.chains[0]?.firstFailure).toMatchObject({ chainSeq: 11 });
  });

  it('verify --since checks only recent rows and does not mistake older chains for truncated ones', async () => {
    const chainId = await writeChain();
    const future = await verifyAuditChains(store, {
      chainId,
      signer,
      since: '2099-01-01T00:00:00Z',
    });
    expect(future).toMatchObject({ ok: true, rowsChecked: 0 });
    const recentStart = (
      await sql`select occurred_at from audit_logs where chain_id = ${chainId} and chain_seq = 31`
    )[0]?.occurred_at;
    const recent = await verifyAuditChains(store, {
      chainId,
      signer,
      since: new Date(recentStart as string),
    });
    expect(recent.ok).toBe(true);
    expect(recent.chains[0]).toMatchObject({ firstSeq: 31, lastSeq: ROWS, rowsChecked: ROWS - 30 });
  });

  it('reports a chain that is gone entirely when asked for it by id', async () => {
    const report = await verifyAuditChains(store, { chainId: 'a-chain-that-was-deleted', signer });
    expect(report.ok).toBe(false);
    expect(report.chains[0]?.firstFailure?.kind).toBe('truncated_tail');
  });

  it('rejects plain UPDATE, DELETE and TRUNCATE with the append-only message', async () => {
    await writeChain();
    await expect(sql`update audit_logs set outcome = 'denied'`).rejects.toThrow(
      /append-only: UPDATE is not allowed/,
    );
    await expect(sql`delete from audit_logs`).rejects.toThrow(/append-only: DELETE is not allowed/);
    await expect(sql`truncate audit_logs`).rejects.toThrow(/append-only: TRUNCATE is not allowed/);
    await expect(sql`delete from audit_checkpoints`).rejects.toThrow(
      /audit_checkpoints is append-only/,
    );
  });

  it('aitrail verify exits 0 on an intact table and 1 with the failure kind after tampering', async () => {
    const dbUrl = await testDatabaseUrl();
    const own = await openAuditStore(dbUrl);
    const writer = new AuditWriter({ store: own, journalDir: null, checkpoints: { signer } });
    for (let i = 0; i < 20; i++) writer.enqueue(makeRecord(i));
    await writer.shutdown();
    await own.close();
    const env = { AITRAIL_SIGNING_KEY: SIGNING_KEY };
    const intact = await runCli(['verify', '--database-url', dbUrl, '--format', 'json'], { env });
    expect(intact.code).toBe(0);
    expect(JSON.parse(intact.stdout)).toMatchObject({
      ok: true,
      rowsChecked: 20,
      signatures: 'verified',
    });

    const admin = postgres(dbUrl, { onnotice: () => {} });
    await admin.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`update audit_logs set actor_id = 'someone_else' where chain_seq = 5`;
    });
    await admin.end();
    const tampered = await runCli(['verify', '--database-url', dbUrl], { env });
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('FAILED modified_row');
    expect(tampered.stderr).toContain('verify failed');
  });

  /** A chain as the release before tree heads wrote it: hash version 1, legacy head checkpoints. */
  async function writeLegacyChain(options: { checkpoint: boolean }): Promise<string> {
    const chain = new HashChain(`legacy-${Math.random().toString(36).slice(2)}`, undefined, 1);
    const sealed = Array.from({ length: 12 }, (_, i) => {
      const record = makeRecord(i);
      return chain.seal(record, canonicalJson(record.metadata));
    });
    await store.insertRecords(sealed);
    if (options.checkpoint) {
      const unsigned = {
        chainId: chain.chainId,
        kind: 'legacy' as const,
        chainSeq: 10,
        headHash: (sealed[9] as { hash: string }).hash,
        rootHash: null,
        prevCheckpointHash: null,
        hashVersion: 1 as const,
        createdAt: new Date().toISOString(),
        serviceName: 'legacy-release',
        algorithm: signer.algorithm,
        keyId: signer.keyId,
        final: false,
      };
      await store.insertCheckpoint({ ...unsigned, signature: signer.sign(unsigned) });
    }
    return chain.chainId;
  }

  it('a chain written before tree heads still verifies, reported as legacy, its tail as unanchored', async () => {
    const chainId = await writeLegacyChain({ checkpoint: true });
    const report = await verifyAuditChains(store, { chainId, signer });
    expect(report.failures).toEqual([]);
    expect(report.chains[0]).toMatchObject({
      legacy: true,
      rowsChecked: 12,
      unanchored: { rows: 2 },
      checkpoints: { verified: 1 },
    });
    expect(report.notes.join('\n')).toMatch(/1 legacy chain\(s\)/);
  });

  it('with a key, a legacy-looking chain that no signed checkpoint vouches for is a forgery', async () => {
    const chainId = await writeLegacyChain({ checkpoint: false });
    const report = await verifyAuditChains(store, { chainId, signer });
    expect(report.failures.map((f) => f.kind)).toEqual(['forged_chain']);
    expect((await verifyAuditChains(store, { chainId })).ok).toBe(true);
  });

  it('writes a signed genesis before the first row, and at shutdown the final tree head last, with no failed checkpoint', async () => {
    const warnings: string[] = [];
    const own = await openAuditStore(url);
    const writer = new AuditWriter({
      store: own,
      journalDir: null,
      batchSize: 50,
      // A periodic head after every batch and on a 1 ms timer: shutdown meets one in flight.
      checkpoints: { everyRecords: 1, everyMs: 1, signer },
      logger: { warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    });
    for (let i = 0; i < 2000; i++) writer.enqueue(makeRecord(i));
    await writer.shutdown();
    // The connections close right after, as initAuditTelemetry's shutdown does.
    await own.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const heads = await sql`select kind, chain_seq, created_at from audit_checkpoints
      where chain_id = ${writer.chainId} order by created_at, chain_seq`;
    const [first] =
      await sql`select min(recorded_at) as at from audit_logs where chain_id = ${writer.chainId}`;
    expect(warnings).toEqual([]);
    expect(heads[0]).toMatchObject({ kind: 'genesis', chain_seq: '0' });
    expect(new Date(heads[0]?.created_at).getTime()).toBeLessThanOrEqual(
      new Date(first?.at).getTime(),
    );
    expect(heads.at(-1)).toMatchObject({ kind: 'final', chain_seq: '2000' });
    const report = await verifyAuditChains(store, { chainId: writer.chainId, signer });
    expect(report.failures).toEqual([]);
    expect(report.chains[0]?.unanchored.rows).toBe(0);
  });
});
