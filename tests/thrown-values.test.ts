import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceChat, traceTask, traceToolCall } from '../src/index.js';
import { startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { openTestStore, scratchDir, type TestStore } from './support/stores.js';

/** Values an app (or a library it calls) can throw that resist inspection. */
function hostileValues(): Array<[string, unknown]> {
  const nullProto = Object.create(null) as Record<string, unknown>;
  nullProto.reason = 'no prototype, no toString';
  const trapsThrow = new Proxy(
    {},
    new Proxy(
      {},
      {
        get: () => () => {
          throw new Error('every trap throws');
        },
      },
    ),
  );
  return [
    ['a null-prototype object', nullProto],
    ['a Proxy that throws on every trap', trapsThrow],
    ['undefined', undefined],
    ['null', null],
    ['a string', 'plain string thrown'],
    ['a frozen object', Object.freeze({ code: 'FROZEN' })],
    ['an Error whose message getter throws', errorWithThrowingGetter()],
  ];
}

function errorWithThrowingGetter(): Error {
  const error = new Error('x');
  Object.defineProperty(error, 'message', {
    get() {
      throw new Error('message getter throws');
    },
  });
  return error;
}

async function thrownBy(run: () => Promise<unknown>): Promise<{ threw: boolean; value: unknown }> {
  try {
    await run();
    return { threw: false, value: undefined };
  } catch (value) {
    return { threw: true, value };
  }
}

describe('helpers rethrow exactly what fn threw and record a failure', () => {
  let db: TestStore;
  let pipeline: TestPipeline;

  beforeAll(async () => {
    db = await openTestStore('postgres');
    pipeline = startTestPipeline(db.store, { writer: { journalDir: scratchDir() } });
  });

  afterAll(async () => {
    await pipeline?.close();
    await db?.close();
  });

  async function outcomeOf(toolCallId: string): Promise<string[]> {
    await pipeline.processor.forceFlush();
    const rows = await db.store.query<{ outcome: string; action: string }>(
      `select outcome, action from audit_logs where metadata->>'toolCallId' = $1 or task_id = $1 or conversation_id = $1`,
      [toolCallId],
    );
    return rows.map((r) => `${r.action}:${r.outcome}`);
  }

  it.each(hostileValues())('traceToolCall, fn throws %s', async (name, value) => {
    const id = `tool-${name.replace(/\W+/g, '-')}`;
    const caught = await thrownBy(() =>
      traceToolCall({ toolName: 'charge_card', toolCallId: id, conversationId: id }, () => {
        throw value;
      }),
    );
    expect(caught.threw).toBe(true);
    expect(Object.is(caught.value, value)).toBe(true);
    expect(await outcomeOf(id)).toEqual(['ai.tool_call:failure']);
  });

  it.each(hostileValues())('traceTask, async fn rejects with %s', async (name, value) => {
    const id = `task-${name.replace(/\W+/g, '-')}`;
    const caught = await thrownBy(() =>
      traceTask({ taskId: id }, async () => {
        await Promise.resolve();
        throw value;
      }),
    );
    expect(caught.threw).toBe(true);
    expect(Object.is(caught.value, value)).toBe(true);
    expect(await outcomeOf(id)).toEqual(['ai.task_failed:failure']);
  });

  it.each(hostileValues())('traceChat, fn throws %s', async (name, value) => {
    const id = `chat-${name.replace(/\W+/g, '-')}`;
    const caught = await thrownBy(() =>
      traceChat({ model: 'gpt-test', conversationId: id }, () => {
        throw value;
      }),
    );
    expect(caught.threw).toBe(true);
    expect(Object.is(caught.value, value)).toBe(true);
    expect(await outcomeOf(id)).toEqual(['ai.chat_message:failure']);
  });

  it('treats a returned value whose then getter throws as fn failing, and rethrows that error', async () => {
    const id = 'tool-then-getter-throws';
    const thrown = new Error('then getter throws');
    // Defined, not written as a literal getter: a `then` member is exactly what is under test.
    const returned = Object.defineProperty({}, 'then', {
      get() {
        throw thrown;
      },
    });
    const caught = await thrownBy(() =>
      traceToolCall(
        { toolName: 'charge_card', toolCallId: id, conversationId: id },
        () => returned,
      ),
    );
    expect(caught).toEqual({ threw: true, value: thrown });
    expect(await outcomeOf(id)).toEqual(['ai.tool_call:failure']);
  });

  it('returns what fn returned, awaited or not, with the same outcome either way', async () => {
    const result = { found: 12 };
    expect(await traceToolCall({ toolName: 'a', toolCallId: 'sync-result' }, () => result)).toBe(
      result,
    );
    expect(
      await traceToolCall({ toolName: 'a', toolCallId: 'async-result' }, async () => result),
    ).toBe(result);
    expect(await outcomeOf('sync-result')).toEqual(['ai.tool_call:success']);
    expect(await outcomeOf('async-result')).toEqual(['ai.tool_call:success']);
  });
});
