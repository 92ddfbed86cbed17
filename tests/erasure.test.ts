import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../src/store/audit-record.js';
import type { AuditStore } from '../src/store/audit-store.js';
import { eraseSubject, receiptStatement } from '../src/store/erasure/erase-subject.js';
import { openAuditStore } from '../src/store/open-store.js';
import { explainDecisions } from '../src/store/queries/explain.js';
import { exportSubject } from '../src/store/queries/subject-export.js';
import { queryAuditLogs } from '../src/store/queries.js';
import { placeLegalHold, releaseLegalHold } from '../src/store/retention/legal-holds.js';
import { verifyAuditChains } from '../src/store/verify/index.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { createCheckpointSigner } from '../src/store/writer/checkpoint-signer.js';
import { runCli } from './support/cli.js';
import { pgBinDir } from './support/pg-cluster.js';
import { testDatabaseUrl } from './support/postgres.js';
import { makeRecord } from './support/records.js';
import { BACKENDS, openTestStore, type TestStore } from './support/stores.js';

const SIGNING_KEY = 'erasure-test-signing-key-0123456789';
const signer = createCheckpointSigner(SIGNING_KEY);
const SUBJECT = 'subj-q7x3';
const PLANTED = [
  SUBJECT,
  'planted-content-zq81',
  'planted-param-mm42',
  'planted-reason-kk19',
  'planted-meta-ww55',
  'planted-approver-aa07',
];

/** Rows about the subject, by the subject and by a manager, with every kind of personal field. */
function subjectRecords(): AuditRecord[] {
  return [
    makeRecord(0, {
      actorId: SUBJECT,
      subjectId: SUBJECT,
      action: 'ai.chat_message',
      metadata: { model: 'gpt-x', content: [{ role: 'user', content: 'planted-content-zq81' }] },
    }),
    makeRecord(1, {
      actorId: SUBJECT,
      subjectId: SUBJECT,
      metadata: { toolName: 'lookup_order', toolParams: { note: 'planted-param-mm42' } },
    }),
    makeRecord(2, {
      actorId: 'user_manager',
      subjectId: SUBJECT,
      action: 'ai.approval_approved',
      metadata: { reason: 'planted-reason-kk19', approverId: 'planted-approver-aa07' },
    }),
    makeRecord(3, {
      actorType: 'service',
      actorId: 'billing-worker',
      subjectId: SUBJECT,
      action: 'billing.refund_issued',
      metadata: { ticketNote: 'planted-meta-ww55' },
    }),
  ];
}

function otherRecords(): AuditRecord[] {
  return [0, 1, 2].map((i) =>
    makeRecord(10 + i, {
      actorId: 'other-9',
      subjectId: 'other-9',
      metadata: { content: `other-content-${i}`, toolParams: { orderId: `ORD-O${i}` } },
    }),
  );
}

async function write(store: AuditStore, records: AuditRecord[]): Promise<void> {
  const writer = new AuditWriter({ store, journalDir: null, checkpoints: { signer } });
  for (const record of records) writer.enqueue(record);
  await writer.shutdown();
  expect(writer.stats()).toMatchObject({ written: records.length, dropped: 0 });
}

describe('erasure on real Postgres', () => {
  let url: string;
  let store: AuditStore;
  let otherBefore: unknown[];
  let erasedTraceIds: string[];
  let receipt: Record<string, unknown>;

  beforeAll(async () => {
    url = await testDatabaseUrl();
    store = await openAuditStore({ databaseUrl: url });
    const mine = subjectRecords();
    erasedTraceIds = mine.map((r) => r.traceId);
    await write(store, [...mine, ...otherRecords()]);
    otherBefore = await queryAuditLogs(store, { subjectId: 'other-9', order: 'asc' });
    const erased = await runCli(
      ['erase', '--subject', SUBJECT, '--reason', 'Art. 17 request 118', '--database-url', url],
      { env: { AITRAIL_SIGNING_KEY: SIGNING_KEY } },
    );
    expect(erased.stderr).toBe('');
    expect(erased.code).toBe(0);
    receipt = JSON.parse(erased.stdout);
  });

  afterAll(async () => {
    await store?.close();
  });

  it('prints a receipt naming the rows it erased, with no personal data in it', () => {
    expect(receipt).toMatchObject({ rowsErased: 4, plaintextRows: 0, algorithm: 'hmac-sha256' });
    expect(receipt.receiptId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(receipt)).not.toContain(SUBJECT);
  });

  it('signs the receipt with the checkpoint key', () => {
    const statement = receiptStatement(receipt as never, signer);
    expect(signer.verify({ ...statement, signature: receipt.signature as string })).toBe(true);
    expect(
      signer.verify({ ...statement, chainSeq: 3, signature: receipt.signature as string }),
    ).toBe(false);
  });

  it("leaves none of the subject's identifiers or content in a pg_dump", () => {
    const dump = execFileSync(join(pgBinDir(), 'pg_dump'), ['--no-owner', '--dbname', url], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(dump).toContain('other-content-1');
    for (const planted of PLANTED) expect(dump, planted).not.toContain(planted);
  });

  it('keeps every chain verifying, checkpoints signed', async () => {
    const report = await verifyAuditChains(store, { signer });
    expect(report.chains.filter((c) => c.failures > 0)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.signatures).toBe('verified');
  });

  it('records the erasure in the trail as audit.subject_erased, holding the receipt id', async () => {
    const [event] = await queryAuditLogs(store, { action: 'audit.subject_erased' });
    expect(event).toMatchObject({
      resourceType: 'erasure_receipt',
      resourceId: receipt.receiptId,
      actorId: 'aitrail-cli',
      subjectId: null,
    });
    expect(event?.metadata).toMatchObject({ receiptId: receipt.receiptId, rowsErased: 4 });
    expect(event?.metadata.reason).toBe('Art. 17 request 118');
    expect(event?.eventId).toBe(receipt.eventId);
  });

  it('reads an erased row as [ERASED] with the receipt id, keeping other people in it', async () => {
    const rows = await Promise.all(
      erasedTraceIds.map(async (traceId) => (await queryAuditLogs(store, { traceId }))[0]),
    );
    for (const row of rows) {
      expect(row?.subjectId).toBe('[ERASED]');
      expect(row?.erasedBy).toBe(receipt.receiptId);
      expect(row?.metadata.erasure).toEqual({ receiptId: receipt.receiptId });
    }
    expect(rows.map((r) => r?.actorId)).toEqual([
      '[ERASED]',
      '[ERASED]',
      'user_manager',
      'billing-worker',
    ]);
    expect(rows[0]?.metadata).toMatchObject({ model: 'gpt-x', personal: '[ERASED]' });
    expect(rows[0]?.metadata.content).toBeUndefined();
    expect(await queryAuditLogs(store, { subjectId: SUBJECT })).toEqual([]);
  });

  it("reads every other subject's rows exactly as before", async () => {
    expect(await queryAuditLogs(store, { subjectId: 'other-9', order: 'asc' })).toEqual(
      otherBefore,
    );
  });

  it("shows [ERASED] in exports and explanations in place of the subject's values, others unchanged", async () => {
    // The manager approved a request about the subject: the manager stays, the rest is erased.
    const manager = await exportSubject(store, { subjectId: 'user_manager', reader: 'user:dpo' });
    expect(manager.rows).toHaveLength(1);
    expect(manager.rows[0]).toMatchObject({
      actorId: 'user_manager',
      subjectId: '[ERASED]',
      roles: ['actor'],
      erasedBy: receipt.receiptId,
    });
    expect(manager.rows[0]?.erasedFields).toEqual(['subjectId', 'metadata.personal']);
    expect(JSON.stringify(manager)).not.toContain('planted-');
    const other = await exportSubject(store, { subjectId: 'other-9' });
    expect(other.rows.map((r) => r.metadata.content)).toEqual([
      'other-content-0',
      'other-content-1',
      'other-content-2',
    ]);
    expect(other.rows.every((r) => r.erasedFields.length === 0 && r.erasedBy === null)).toBe(true);
    expect(other.rows.map(({ roles, erasedFields, ...row }) => row)).toEqual(otherBefore);

    const [chat, , approval] = await Promise.all(
      erasedTraceIds.map((traceId) => explainDecisions(store, { traceId })),
    );
    expect(chat?.steps[0]).toMatchObject({
      actor: 'user:[ERASED]',
      content: '[ERASED]',
      model: 'gpt-x',
      erasedBy: receipt.receiptId,
    });
    expect(approval?.steps[0]).toMatchObject({ actor: 'user:user_manager' });
    expect(approval?.steps[0]?.approval?.approver).toBe('user:[ERASED]');
    expect(JSON.stringify([chat, approval])).not.toContain('planted-');
    // conv_3 holds an erased row (about the subject) and one of other-9's, as written.
    const shared = await explainDecisions(store, { conversationId: 'conv_3' });
    expect(shared.steps.map((s) => s.actor)).toEqual(['service:billing-worker', 'user:other-9']);
    expect(shared.steps[0]?.erasedBy).toBe(receipt.receiptId);
    expect(shared.steps[1]).toMatchObject({ params: { orderId: 'ORD-O0' } });
    expect(shared.steps[1]?.erasedBy).toBeUndefined();
    // The erased subject can no longer be found.
    expect((await exportSubject(store, { subjectId: SUBJECT })).rows).toEqual([]);
  });

  it('lets no one change a vault value, not even its owner, except by erasing it', async () => {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await expect(
        sql`update audit_personal_data set subject_id = 'someone-else' where subject_id = 'other-9'`,
      ).rejects.toThrow(/only ever erased/);
      await expect(sql`truncate audit_personal_data`).rejects.toThrow(/append-only: TRUNCATE/);
    } finally {
      await sql.end();
    }
  });
});

describe.each(BACKENDS)('legal holds and erasure on %s', (backend) => {
  let db: TestStore;

  beforeAll(async () => {
    db = await openTestStore(backend);
    await write(db.store, otherRecords());
  });

  afterAll(async () => {
    await db?.close();
  });

  it('a hold on the subject blocks erasure with a clear error; lifting it lets erasure run', async () => {
    const hold = await placeLegalHold(db.store, {
      subjectId: 'other-9',
      reason: 'litigation 7',
      signer,
    });
    await expect(
      eraseSubject(db.store, { subjectId: 'other-9', reason: 'Art. 17' }),
    ).rejects.toMatchObject({ code: 'LEGAL_HOLD', message: expect.stringContaining(hold.id) });
    expect(await queryAuditLogs(db.store, { subjectId: 'other-9' })).not.toEqual([]);
    await releaseLegalHold(db.store, { holdId: hold.id, reason: 'settled', signer });
    const receipt = await eraseSubject(db.store, {
      subjectId: 'other-9',
      reason: 'Art. 17',
      signer,
    });
    // Its three rows, and the two hold events about the subject.
    expect(receipt.rowsErased).toBe(5);
    const actions = (await queryAuditLogs(db.store, { limit: 100 })).map((r) => r.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'audit.legal_hold_placed',
        'audit.legal_hold_released',
        'audit.subject_erased',
      ]),
    );
    expect((await verifyAuditChains(db.store, { signer })).ok).toBe(true);
  });

  it('a hold on the tenant blocks erasure of a subject in it', async () => {
    await write(db.store, [
      makeRecord(20, { tenantId: 'held', subjectId: 'subj-h', actorId: 'subj-h' }),
    ]);
    await placeLegalHold(db.store, { tenantId: 'held', reason: 'regulator inquiry' });
    await expect(
      eraseSubject(db.store, { subjectId: 'subj-h', reason: 'Art. 17' }),
    ).rejects.toMatchObject({ code: 'LEGAL_HOLD' });
  });

  it('names the option when erasure is misused', async () => {
    await expect(eraseSubject(db.store, { subjectId: '', reason: 'x' })).rejects.toThrow(
      /eraseSubject: subjectId/,
    );
    await expect(
      eraseSubject(db.store, { subjectId: 'a', reason: 'x', subject: 'b' } as never),
    ).rejects.toThrow(/unknown option "subject"/);
  });
});
