import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { traceChat, traceToolCall } from '../src/index.js';
import { type AuditPipelineOptions, createAuditPipeline } from '../src/pipeline/audit-pipeline.js';
import { createRedactor, portablePolicyOf } from '../src/sanitize/redactor.js';
import { REDACTION_FAILED } from '../src/sanitize/replacement.js';
import type { RedactionPolicy } from '../src/sanitize/types.js';
import { queryAuditLogs } from '../src/store/queries.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { openTestStore, scratchDir, type TestStore } from './support/stores.js';

const EMAIL = 'alice.smith@example.com';
const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD';
const ORDER = 'ORD-123456';
const PARAMS = { note: `mail ${EMAIL}, key ${KEY}, order ${ORDER}`, nested: [{ to: EMAIL }] };

interface Running {
  db: TestStore;
  provider: TracerProvider;
  writer: AuditWriter;
  unregister: () => void;
}

let running: Running | undefined;

/** A pipeline on real Postgres whose writer runs on a thread of its own; no exporter. */
async function start(
  options: AuditPipelineOptions,
  writerOptions: Partial<ConstructorParameters<typeof AuditWriter>[0]> = {},
) {
  const pipeline = createAuditPipeline(options);
  const db = await openTestStore('postgres');
  const writer = new AuditWriter({ store: db.store, journalDir: scratchDir(), ...writerOptions });
  const provider = new TracerProvider({ spanProcessors: [pipeline.spanProcessor({ writer })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  running = { db, provider, writer, unregister: pipeline.register() };
  return { pipeline, db, provider, writer };
}

afterEach(async () => {
  if (running === undefined) return;
  running.unregister();
  await running.provider.shutdown();
  trace.disable();
  context.disable();
  await running.db.close();
  running = undefined;
});

async function storedRows(db: TestStore) {
  const dump = await db.store.query<{ row: string }>('select t::text as row from audit_logs t');
  return {
    text: dump.map((d) => d.row).join('\n'),
    rows: await queryAuditLogs(db.store, { limit: 100 }),
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('a redaction policy another thread can compile', () => {
  it('is kept for plain-data policies only: no function, no prototype method, no RegExp subclass', () => {
    const pattern = /ORD-\d{6}/g;
    class OrderDetector {
      name = 'order_ref';
      pattern = pattern;
      validate(match: string) {
        return match.endsWith('6');
      }
    }
    class LoudRegExp extends RegExp {}
    expect(portablePolicyOf(createRedactor({ detectors: [{ name: 'o', pattern }] }))).toBeDefined();
    expect(portablePolicyOf(createRedactor({ keys: [/^x-/i, 'note'] }))).toBeDefined();
    expect(portablePolicyOf(createRedactor({ detectors: [new OrderDetector()] }))).toBeUndefined();
    expect(
      portablePolicyOf(
        createRedactor({ detectors: [{ name: 'o', pattern, validate: () => true }] }),
      ),
    ).toBeUndefined();
    expect(
      portablePolicyOf(createRedactor({ keys: [new LoudRegExp('^x-', 'i')] })),
    ).toBeUndefined();
  });

  it('compiles on another thread into the same redactor, hash tags with this process’s key included', () => {
    const local = createRedactor({ modes: { '*': 'hash' } });
    // The per-process key is this thread's: the policy carries it, resolved.
    expect(portablePolicyOf(local)?.hashKey).toBeDefined();
    const again = createRedactor(
      structuredClone(portablePolicyOf(local)) as Parameters<typeof createRedactor>[0],
    );
    expect(again.redactValue(PARAMS)).toEqual(local.redactValue(PARAMS));
    expect(JSON.stringify(local.redactValue(PARAMS))).toMatch(/\[email:[0-9a-f]{8}\]/);
  });
});

describe('held values redacted on the writer thread', () => {
  it('stores what the pipeline’s redactor makes of them: built-in and custom detectors, hash mode with this process’s key', async () => {
    const { pipeline, db, provider, writer } = await start({
      redaction: {
        detectors: [{ name: 'order_ref', pattern: /ORD-\d{6}/g }],
        modes: { email: 'hash' },
      },
      captureContent: 'redacted',
    });
    expect(writer.thread).toBe('worker');
    expect(portablePolicyOf(pipeline.redactor)).toBeDefined();
    await traceToolCall({ toolName: 'lookup', params: PARAMS }, async () => 'ok');
    await traceChat({ model: 'm', content: `write to ${EMAIL} about ${ORDER}` }, (chat) => {
      chat.setCompletion(`sent to ${EMAIL}`);
    });
    await provider.forceFlush();
    const { text, rows } = await storedRows(db);
    for (const planted of [EMAIL, KEY, ORDER]) expect(text).not.toContain(planted);
    const tool = rows.find((r) => r.action === 'ai.tool_call');
    // The same bytes the calling thread's redactor makes, hash tags included.
    expect(tool?.metadata.toolParams).toEqual(pipeline.redactor.redactValue(PARAMS));
    expect(JSON.stringify(tool?.metadata.toolParams)).toContain('[REDACTED:order_ref]');
    const chat = rows.find((r) => r.action === 'ai.chat_message');
    expect(chat?.metadata.content).toEqual(
      pipeline.redactor.redactValue([
        { role: 'user', content: `write to ${EMAIL} about ${ORDER}` },
      ]),
    );
    expect(chat?.metadata.completion).toBeDefined();
  });

  it('never journals a held value unredacted while the database refuses writes', async () => {
    const journalDir = scratchDir();
    const { db, provider, writer } = await start(
      {},
      {
        journalDir,
        prepare: () =>
          Promise.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' })),
      },
    );
    expect(writer.thread).toBe('worker');
    for (let i = 0; i < 20; i++)
      await traceToolCall({ toolName: 'lookup', params: PARAMS }, async () => i);
    await provider.forceFlush();
    expect(writer.stats()).toMatchObject({ received: 20, accepted: 20, written: 0 });
    const journal = filesUnder(journalDir)
      .filter((path) => path.endsWith('.jnl'))
      .map((path) => readFileSync(path, 'utf8'))
      .join('\n');
    expect(journal).toContain('[REDACTED:email]');
    for (const planted of [EMAIL, KEY]) expect(journal).not.toContain(planted);
    const { rows } = await storedRows(db);
    expect(rows).toHaveLength(0);
  });

  it('redacts on the calling thread with a custom detector whose validate function cannot cross', async () => {
    const { pipeline, db, provider, writer } = await start({
      redaction: {
        detectors: [
          { name: 'order_ref', pattern: /ORD-\d{6}/g, validate: (match) => match.endsWith('6') },
        ],
      },
    });
    expect(writer.thread).toBe('worker');
    expect(portablePolicyOf(pipeline.redactor)).toBeUndefined();
    await traceToolCall(
      { toolName: 'lookup', params: { first: ORDER, second: 'ORD-123457' } },
      async () => 'ok',
    );
    await provider.forceFlush();
    const { rows } = await storedRows(db);
    expect(rows[0]?.metadata.toolParams).toEqual({
      first: '[REDACTED:order_ref]',
      second: 'ORD-123457',
    });
  });

  it('counts values the writer thread fails to redact in the calling thread’s redactor.stats, stores the failure marker, and stays alive', async () => {
    const errors: string[] = [];
    const { pipeline, db, provider, writer } = await start(
      {},
      { logger: { warn: () => {}, error: (m) => errors.push(m) } },
    );
    expect(writer.thread).toBe('worker');
    // A policy the thread cannot compile, changed after the redactor was built (its copy is
    // plain data anyone holding it can reach): every value it should redact fails on the thread.
    const policy = portablePolicyOf(pipeline.redactor) as RedactionPolicy;
    policy.modes = { '*': 'no-such-mode' as never };
    const before = pipeline.redactor.stats.failures;
    for (let i = 0; i < 3; i++)
      await traceToolCall({ toolName: 'lookup', params: PARAMS }, async () => i);
    await provider.forceFlush();
    expect(errors.filter((m) => m.includes('the writer thread failed'))).toEqual([]);
    expect(errors.some((m) => m.includes('cannot be compiled on the writer thread'))).toBe(true);
    expect(pipeline.redactor.stats.failures - before).toBe(3);
    const { text, rows } = await storedRows(db);
    expect(rows).toHaveLength(3);
    for (const planted of [EMAIL, KEY]) expect(text).not.toContain(planted);
    for (const row of rows) expect(row.metadata.toolParams).toBe(REDACTION_FAILED);
  });

  it('redacts on the calling thread once the writer thread has died', async () => {
    const errors: string[] = [];
    const { pipeline, db, provider, writer } = await start(
      {},
      { logger: { warn: () => {}, error: (m) => errors.push(m) } },
    );
    expect(writer.thread).toBe('worker');
    // The writer on the calling thread that takes over gets the records, and their raw values.
    await (writer as unknown as { backend: { worker: Worker } }).backend.worker.terminate();
    for (let i = 0; i < 5; i++)
      await traceToolCall({ toolName: 'lookup', params: PARAMS }, async () => i);
    await provider.forceFlush();
    expect(errors.some((m) => m.includes('the writer thread failed'))).toBe(true);
    const { text, rows } = await storedRows(db);
    expect(rows).toHaveLength(5);
    for (const planted of [EMAIL, KEY]) expect(text).not.toContain(planted);
    expect(rows[0]?.metadata.toolParams).toEqual(pipeline.redactor.redactValue(PARAMS));
  });
});
