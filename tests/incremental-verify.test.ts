/**
 * Incremental verify: given the tree heads an earlier run verified (kept outside the database),
 * a run reads only the rows after them, and still catches what the database cannot hide from the
 * heads it was shown before.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointRecord } from '../src/store/audit-record.js';
import type { AuditStore } from '../src/store/audit-store.js';
import { canonicalJson } from '../src/store/canonical-json.js';
import {
  canonicalHashedFields,
  computeRowHash,
  GENESIS_HASH,
  type HashedFields,
} from '../src/store/hash-chain.js';
import { rowLeafHash } from '../src/store/merkle/leaf.js';
import { treeHash } from '../src/store/merkle/tree-hash.js';
import { openAuditStore } from '../src/store/open-store.js';
import { loadCheckpoints } from '../src/store/verify/checkpoints.js';
import {
  type TamperKind,
  type VerifiedHeads,
  type VerifyReport,
  verifyAuditChains,
} from '../src/store/verify/index.js';
import { ROW_COLUMNS, type RowForVerify } from '../src/store/verify/rows.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { checkpointHash, createCheckpointSigner } from '../src/store/writer/checkpoint-signer.js';
import { runCli } from './support/cli.js';
import { testDatabaseUrl } from './support/postgres.js';
import { makeRecord } from './support/records.js';
import { BACKENDS, openTestStore, scratchDir } from './support/stores.js';

const SIGNING_KEY = 'incremental-verify-signing-key-0123456789';
const signer = createCheckpointSigner(SIGNING_KEY);

/** A chain whose writer stays open: heads every 10 rows, none on a timer. */
function openWriter(store: AuditStore): AuditWriter {
  return new AuditWriter({
    store,
    serviceName: 'incremental-test',
    journalDir: null,
    batchSize: 10,
    maxInFlight: 1,
    checkpoints: { everyRecords: 10, everyMs: 3_600_000, signer },
    logger: { warn: () => {}, error: () => {} },
  });
}

async function write(writer: AuditWriter, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) writer.enqueue(makeRecord(i));
  await writer.flush();
}

function kinds(report: VerifyReport): TamperKind[] {
  return [...new Set(report.failures.map((f) => f.kind))].sort();
}

function headOf(verified: VerifiedHeads | undefined, chainId: string): number {
  const head = verified?.chains[chainId]?.head.chainSeq;
  if (head === undefined) throw new Error(`no verified head for ${chainId}`);
  return head;
}

describe.each(BACKENDS)('incremental verify (%s)', (backend) => {
  it('a run given the heads the last one verified reads only the rows after them, and vouches for the newest head', async () => {
    const t = await openTestStore(backend);
    const writer = openWriter(t.store);
    try {
      await write(writer, 0, 30);
      const first = await verifyAuditChains(t.store, { chainId: writer.chainId, signer });
      expect(first.failures).toEqual([]);
      expect(first.chains[0]?.resumedFrom).toBeNull();
      const verifiedAt = headOf(first.verified, writer.chainId);
      expect(verifiedAt).toBeGreaterThanOrEqual(20);

      await write(writer, 30, 25);
      const second = await verifyAuditChains(t.store, {
        chainId: writer.chainId,
        signer,
        verified: JSON.parse(JSON.stringify(first.verified)),
      });
      expect(second.failures).toEqual([]);
      expect(second.chains[0]?.resumedFrom).toBe(verifiedAt);
      expect(second.rowsChecked).toBe(55 - verifiedAt);
      expect(second.chains[0]?.firstSeq).toBe(verifiedAt + 1);
      expect(headOf(second.verified, writer.chainId)).toBeGreaterThanOrEqual(50);
      expect(second.notes.join('\n')).toMatch(/not read again/);

      // Nothing new: nothing read, the same head vouched for.
      const third = await verifyAuditChains(t.store, {
        chainId: writer.chainId,
        signer,
        verified: second.verified,
      });
      expect(third.failures).toEqual([]);
      expect(headOf(third.verified, writer.chainId)).toBe(headOf(second.verified, writer.chainId));
      expect(third.rowsChecked).toBe(55 - headOf(second.verified, writer.chainId));
    } finally {
      await writer.shutdown();
      await t.close();
    }
  });
});

describe('incremental verify against tampering (Postgres)', () => {
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

  /** An open chain of 30 rows, verified once: the writer, and the heads that run verified. */
  async function verifiedChain(): Promise<{ writer: AuditWriter; verified: VerifiedHeads }> {
    const writer = openWriter(store);
    await write(writer, 0, 30);
    const report = await verifyAuditChains(store, { chainId: writer.chainId, signer });
    expect(report.failures).toEqual([]);
    return { writer, verified: report.verified as VerifiedHeads };
  }

  function again(chainId: string, verified: VerifiedHeads) {
    return verifyAuditChains(store, { chainId, signer, verified });
  }

  /** As a superuser who bypasses the append-only triggers. */
  function tamper(fn: (tx: postgres.TransactionSql) => Promise<unknown>) {
    return sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await fn(tx);
    });
  }

  it('rows appended after the verified head are checked: a modified new row is reported', async () => {
    const { writer, verified } = await verifiedChain();
    await write(writer, 30, 20);
    await tamper(
      (tx) =>
        tx`update audit_logs set outcome = 'denied' where chain_id = ${writer.chainId} and chain_seq = 42`,
    );
    const report = await again(writer.chainId, verified);
    expect(report.chains[0]?.firstFailure).toMatchObject({ kind: 'modified_row', chainSeq: 42 });
    // A chain with failures keeps the head it came with.
    expect(report.verified?.chains[writer.chainId]).toEqual(verified.chains[writer.chainId]);
    await writer.shutdown();
  });

  it('rows rewritten before the verified head, hashes recomputed, no longer reach its head hash', async () => {
    const { writer, verified } = await verifiedChain();
    await tamper(async (tx) => {
      await rewriteRows(tx, writer.chainId);
    });
    const report = await again(writer.chainId, verified);
    expect(kinds(report)).toContain('rewritten_chain');
    expect(
      report.failures.some((f) => f.chainSeq === verified.chains[writer.chainId]?.head.chainSeq),
    ).toBe(true);
    await writer.shutdown();
  });

  it('rows rewritten before the verified head and every head re-signed with the key: the head differs from the verified one', async () => {
    const { writer, verified } = await verifiedChain();
    await tamper(async (tx) => {
      const rows = await rewriteRows(tx, writer.chainId);
      await resignHeads(tx, writer.chainId, rows);
    });
    // The database alone is now consistent: a full verify with the key finds nothing.
    const full = await verifyAuditChains(store, { chainId: writer.chainId, signer });
    expect(full.failures).toEqual([]);
    const report = await again(writer.chainId, verified);
    expect(kinds(report)).toContain('rewritten_chain');
    expect(report.chains[0]?.firstFailure?.detail).toMatch(/differs from the one verified before/);
    await writer.shutdown();
  });

  it('new heads re-signed over a row modified before the verified head do not extend the verified tree', async () => {
    const { writer, verified } = await verifiedChain();
    const size = verified.chains[writer.chainId]?.head.chainSeq as number;
    await write(writer, 30, 20);
    // A row before the head is changed in place (its hash left alone), and every head after the
    // verified one is recomputed over the rows as they now are and re-signed with the key: only
    // the verified frontier tells the new roots are not extensions of the verified tree.
    await tamper(async (tx) => {
      await tx`update audit_logs set outcome = 'denied' where chain_id = ${writer.chainId} and chain_seq = 7`;
      await resignHeads(tx, writer.chainId, await rowsOf(tx, writer.chainId), {
        keepThrough: size,
      });
    });
    const report = await again(writer.chainId, verified);
    expect(kinds(report)).toEqual(['rewritten_chain']);
    expect(report.chains[0]?.firstFailure?.chainSeq).toBeGreaterThan(size);
    await writer.shutdown();
  });

  it('a row modified in place before the verified head is not read again: a full verify finds it', async () => {
    const { writer, verified } = await verifiedChain();
    await tamper(
      (tx) =>
        tx`update audit_logs set outcome = 'denied' where chain_id = ${writer.chainId} and chain_seq = 7`,
    );
    const incremental = await again(writer.chainId, verified);
    expect(incremental.failures).toEqual([]);
    const full = await verifyAuditChains(store, { chainId: writer.chainId, signer });
    expect(full.chains[0]?.firstFailure).toMatchObject({ kind: 'modified_row', chainSeq: 7 });
    await writer.shutdown();
  });

  it('a rollback below the verified head (rows and heads cut together) is reported', async () => {
    const { writer, verified } = await verifiedChain();
    await writer.shutdown();
    await tamper(async (tx) => {
      await tx`delete from audit_logs where chain_id = ${writer.chainId} and chain_seq > 12`;
      await tx`delete from audit_checkpoints where chain_id = ${writer.chainId} and chain_seq > 12`;
    });
    // Without the earlier run's heads (and no witness), this looks like a chain that ended at 12.
    const full = await verifyAuditChains(store, { chainId: writer.chainId, signer });
    expect(full.failures).toEqual([]);
    const report = await again(writer.chainId, verified);
    expect(kinds(report)).toContain('rolled_back');
  });

  it('a chain deleted together with its checkpoints is reported missing', async () => {
    const { writer, verified } = await verifiedChain();
    await writer.shutdown();
    await tamper(async (tx) => {
      await tx`delete from audit_logs where chain_id = ${writer.chainId}`;
      await tx`delete from audit_checkpoints where chain_id = ${writer.chainId}`;
    });
    const report = await verifyAuditChains(store, { signer, verified });
    const missing = report.failures.find((f) => f.chainId === writer.chainId);
    expect(missing?.kind).toBe('missing_chain');
    // It stays in the heads to resume from, so the next run reports it again.
    expect(report.verified?.chains[writer.chainId]).toBeDefined();
  });

  it('heads verified without the key vouch for nothing when the key is given: every chain is read from its start', async () => {
    const writer = openWriter(store);
    await write(writer, 0, 20);
    const unsigned = await verifyAuditChains(store, { chainId: writer.chainId });
    expect(unsigned.verified?.keyId).toBeNull();
    const report = await again(writer.chainId, unsigned.verified as VerifiedHeads);
    expect(report.failures).toEqual([]);
    expect(report.chains[0]?.resumedFrom).toBeNull();
    expect(report.rowsChecked).toBe(20);
    expect(report.notes.join('\n')).toMatch(/verified from its start/);
    await writer.shutdown();
  });

  it('verified heads whose frontier was edited are refused with a TypeError', async () => {
    const { writer, verified } = await verifiedChain();
    const edited = JSON.parse(JSON.stringify(verified)) as VerifiedHeads;
    const chain = edited.chains[writer.chainId];
    if (!chain?.frontier) throw new Error('expected a frontier');
    chain.frontier.hashes[0] = 'f'.repeat(64);
    await expect(again(writer.chainId, edited)).rejects.toThrow(
      /frontier does not lead to the head's root/,
    );
    await expect(verifyAuditChains(store, { verified, since: new Date() })).rejects.toThrow(
      TypeError,
    );
    await writer.shutdown();
  });

  it('aitrail verify --state keeps the heads in a file and reads only newer rows the next time', async () => {
    const dir = scratchDir('aitrail-state-');
    const state = join(dir, 'verified.json');
    const env = { AITRAIL_SIGNING_KEY: SIGNING_KEY };
    const writer = openWriter(store);
    await write(writer, 0, 30);
    const args = [
      'verify',
      '--chain',
      writer.chainId,
      '--state',
      state,
      '--format',
      'json',
      '--database-url',
      url,
    ];
    const first = await runCli(args, { env });
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(state)).toBe(true);
    const saved = JSON.parse(readFileSync(state, 'utf8')) as VerifiedHeads;
    const size = headOf(saved, writer.chainId);

    await write(writer, 30, 10);
    const second = await runCli(args, { env });
    expect(second.code, second.stderr).toBe(0);
    const report = JSON.parse(second.stdout) as VerifyReport;
    expect(report.chains[0]?.resumedFrom).toBe(size);
    expect(report.rowsChecked).toBe(40 - size);
    expect(report).not.toHaveProperty('verified');
    await writer.shutdown();

    const withSince = await runCli([...args, '--since', '24h'], { env });
    expect(withSince.code).toBe(2);
    expect(withSince.stderr).toMatch(/--state and --since/);
    writeFileSync(state, '{"format":"something else"}');
    const corrupt = await runCli(args, { env });
    expect(corrupt.code).toBe(2);
    expect(corrupt.stderr).toMatch(/--state .*format/);
  });
});

function rowsOf(sql: postgres.TransactionSql, chainId: string): Promise<RowForVerify[]> {
  return sql.unsafe(
    `SELECT ${ROW_COLUMNS} FROM audit_logs WHERE chain_id = $1 ORDER BY chain_seq`,
    [chainId],
  ) as unknown as Promise<RowForVerify[]>;
}

function fieldsOf(row: RowForVerify): HashedFields {
  const { prev_hash: _p, hash: _h, recorded_at: _r, ...fields } = row;
  const metadata = canonicalJson(JSON.parse(row.metadata));
  return { ...fields, metadata, chain_seq: Number(row.chain_seq) } as HashedFields;
}

/** Changes the actor of every row from `from` on and recomputes every hash and link after it. */
async function rewriteRows(
  tx: postgres.TransactionSql,
  chainId: string,
  from = 1,
): Promise<RowForVerify[]> {
  const rows = await rowsOf(tx, chainId);
  let prev = GENESIS_HASH;
  for (const row of rows) {
    if (Number(row.chain_seq) >= from) {
      if (Number(row.chain_seq) === from) row.actor_id = 'user_mallory';
      row.prev_hash = prev;
      row.hash = computeRowHash(prev, fieldsOf(row), 2);
      await tx`update audit_logs set actor_id = ${row.actor_id}, prev_hash = ${row.prev_hash}, hash = ${row.hash}
        where id = ${row.id}`;
    }
    prev = row.hash;
  }
  return rows;
}

/**
 * Recomputes every tree head over the rewritten rows, chained and signed with the key (the
 * attacker who holds it); heads up to `keepThrough` are left exactly as they were.
 */
async function resignHeads(
  tx: postgres.TransactionSql,
  chainId: string,
  rows: readonly RowForVerify[],
  { keepThrough = -1 }: { keepThrough?: number } = {},
): Promise<void> {
  // The leaves of the rows as stored, whether or not they still match their hashes.
  const leaves = rows.map((r) => rowLeafHash(canonicalHashedFields(fieldsOf(r), 2)));
  const heads = await loadCheckpoints(
    { query: (text: string, params?: unknown[]) => tx.unsafe(text, params as never[]) } as never,
    chainId,
  );
  let previous: (typeof heads)[number] | null = null;
  for (const head of heads) {
    if (head.chainSeq <= keepThrough) {
      previous = head;
      continue;
    }
    const unsigned: CheckpointRecord = {
      ...head,
      rootHash: treeHash(leaves.slice(0, head.chainSeq)).toString('hex'),
      headHash: rows[head.chainSeq - 1]?.hash ?? GENESIS_HASH,
      prevCheckpointHash: previous ? checkpointHash(previous) : null,
    };
    const { signature: _, ...payload } = unsigned;
    const signed: CheckpointRecord = { ...unsigned, signature: signer.sign(payload) };
    await tx`update audit_checkpoints set root_hash = ${signed.rootHash}, head_hash = ${signed.headHash},
      prev_checkpoint_hash = ${signed.prevCheckpointHash}, signature = ${signed.signature}
      where chain_id = ${chainId} and chain_seq = ${head.chainSeq} and final = ${head.final}`;
    previous = signed;
  }
}
