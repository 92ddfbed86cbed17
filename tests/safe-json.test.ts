import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedactor, type JsonValue } from '../src/sanitize/index.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** A `\u0000` escape in JSON text (not an escaped backslash followed by `u0000`): jsonb rejects it. */
const NUL_ESCAPE = /(?<!\\)(?:\\\\)*\\u0000/;

/** Bytes a marker added by a cut may take beyond maxTotalBytes, per nesting level. */
const MARKER_SLACK_PER_LEVEL = 64;

function nested(depth: number, leaf: unknown = 'leaf'): unknown {
  let value: unknown = leaf;
  for (let level = 0; level < depth; level++) value = { child: value };
  return value;
}

function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let level = 0; level < depth; level++) value = [value];
  return value;
}

const throwingProxy = new Proxy(
  {},
  {
    get() {
      throw new Error('get trap');
    },
    ownKeys() {
      throw new Error('ownKeys trap');
    },
    getPrototypeOf() {
      throw new Error('getPrototypeOf trap');
    },
    has() {
      throw new Error('has trap');
    },
    getOwnPropertyDescriptor() {
      throw new Error('getOwnPropertyDescriptor trap');
    },
  },
);

describe('redactValue: safe serialization of awkward values', () => {
  const redactor = createRedactor();

  it('replaces a cycle with [Circular]', () => {
    const node: Record<string, unknown> = { name: 'root' };
    node.self = node;
    node.list = [node];

    expect(redactor.redactValue(node)).toEqual({
      name: 'root',
      self: '[Circular]',
      list: ['[Circular]'],
    });
  });

  it('repeats an object shared by two branches (only true cycles are cut)', () => {
    const shared = { id: 1 };

    expect(redactor.redactValue({ a: shared, b: shared })).toEqual({ a: { id: 1 }, b: { id: 1 } });
  });

  it('turns BigInt into a decimal string', () => {
    expect(redactor.redactValue({ big: 12345678901234567890n })).toEqual({
      big: '12345678901234567890',
    });
  });

  it('summarises Buffers, typed arrays, ArrayBuffers and DataViews', () => {
    expect(
      redactor.redactValue({
        buffer: Buffer.alloc(1024),
        bytes: new Uint8Array(16),
        floats: new Float64Array(4),
        raw: new ArrayBuffer(8),
        view: new DataView(new ArrayBuffer(4)),
      }),
    ).toEqual({
      buffer: '[Buffer 1024 bytes]',
      bytes: '[Uint8Array 16 bytes]',
      floats: '[Float64Array 32 bytes]',
      raw: '[ArrayBuffer 8 bytes]',
      view: '[DataView 4 bytes]',
    });
  });

  it('writes Dates as ISO strings and marks invalid ones', () => {
    expect(
      redactor.redactValue({ at: new Date('2026-11-27T09:27:09.123Z'), bad: new Date('nope') }),
    ).toEqual({ at: '2026-11-27T09:27:09.123Z', bad: '[Invalid Date]' });
  });

  it('turns Maps into objects (key rules included) and Sets into arrays', () => {
    const map = new Map<unknown, unknown>([
      ['city', 'Paris'],
      ['password', 'hunter2'],
      [42, 'answer'],
    ]);

    expect(redactor.redactValue({ map, set: new Set(['a', 'bob@example.com']) })).toEqual({
      map: { city: 'Paris', password: '[REDACTED:password]', 42: 'answer' },
      set: ['a', '[REDACTED:email]'],
    });
  });

  it('writes Errors as name, redacted message and string code, without the stack', () => {
    const error = Object.assign(new TypeError('key sk-FAKE1234567890abcdefghijkl rejected'), {
      code: 'E_AUTH',
    });

    expect(redactor.redactValue(error)).toEqual({
      name: 'TypeError',
      message: 'key [REDACTED:openai_api_key] rejected',
      code: 'E_AUTH',
    });
  });

  it('drops functions and symbols from objects and writes null for them in arrays', () => {
    const symbolKey = Symbol('hidden');

    expect(
      redactor.redactValue({
        run() {},
        tag: Symbol('t'),
        [symbolKey]: 'invisible',
        list: [() => 1, Symbol('s'), undefined, 1],
      }),
    ).toEqual({ list: [null, null, null, 1] });
  });

  it('writes NaN and Infinity as null and -0 as 0', () => {
    const output = redactor.redactValue({ nan: Number.NaN, inf: -Infinity, zero: -0 });

    expect(JSON.stringify(output)).toBe('{"nan":null,"inf":null,"zero":0}');
  });

  it('writes class instances as their own enumerable properties', () => {
    class Account {
      readonly id = 7;
      #secret = 'private field';
      get label() {
        return `account ${this.id} ${this.#secret}`;
      }
    }

    expect(redactor.redactValue(new Account())).toEqual({ id: 7 });
  });

  it('honours toJSON', () => {
    const money = { cents: 129999, toJSON: () => '$1,299.99' };

    expect(
      redactor.redactValue({ price: money, url: new URL('https://example.com/a?b=1') }),
    ).toEqual({
      price: '$1,299.99',
      url: 'https://example.com/a?b=1',
    });
  });

  it('redacts what toJSON returns', () => {
    const user = { toJSON: () => ({ email: 'bob@example.com', password: 'x' }) };

    expect(redactor.redactValue(user)).toEqual({
      email: '[REDACTED:email]',
      password: '[REDACTED:password]',
    });
  });

  it('cannot be sent into unbounded recursion by toJSON or getters', () => {
    const selfReturning = {
      toJSON() {
        return this;
      },
      visible: 1,
    };
    const growing: { toJSON: () => unknown } = { toJSON: () => ({ again: growing }) };
    const makeEndless = (): object =>
      Object.defineProperty({}, 'next', { enumerable: true, get: makeEndless });
    const endless = makeEndless();

    expect(redactor.redactValue(selfReturning)).toEqual({ visible: 1 });
    expect(JSON.stringify(redactor.redactValue(growing))).toContain('[MaxDepth]');
    expect(JSON.stringify(redactor.redactValue(endless))).toContain('[MaxDepth]');
  });
});

describe('redactValue: hostile inputs', () => {
  const redactor = createRedactor();

  it('marks a throwing getter and keeps the other properties', () => {
    const value = {
      ok: 1,
      get broken(): unknown {
        throw new Error('getter failed');
      },
    };

    expect(redactor.redactValue(value)).toEqual({ ok: 1, broken: '[Unreadable]' });
  });

  it('marks a toJSON that throws', () => {
    const value = {
      toJSON() {
        throw new Error('no');
      },
    };

    expect(redactor.redactValue({ value })).toEqual({ value: '[Unreadable]' });
  });

  it('marks a Proxy whose traps all throw, at the top and nested', () => {
    expect(redactor.redactValue(throwingProxy)).toBe('[Unreadable]');
    expect(redactor.redactValue({ inner: throwingProxy, ok: true })).toEqual({
      inner: '[Unreadable]',
      ok: true,
    });
  });

  it('marks a revoked Proxy', () => {
    const { proxy, revoke } = Proxy.revocable({ a: 1 }, {});
    revoke();

    expect(redactor.redactValue([proxy])).toEqual(['[Unreadable]']);
  });

  it('keeps __proto__, constructor and prototype keys as data without polluting prototypes', () => {
    const input = JSON.parse(
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"prototype":3}',
    );

    const output = redactor.redactValue(input) as Record<string, JsonValue>;

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(output)).toBe(Object.prototype);
    expect(Object.keys(output)).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(JSON.stringify(output)).toBe(
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"prototype":3}',
    );
    expect((output as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('stops at maxDepth on 10,000-level nesting without overflowing the stack', () => {
    const output = JSON.stringify(redactor.redactValue(nested(10_000)));
    const arrays = JSON.stringify(redactor.redactValue(nestedArrays(10_000)));

    expect(output).toBe(`${'{"child":'.repeat(8)}"[MaxDepth]"${'}'.repeat(8)}`);
    expect(arrays).toBe(`${'['.repeat(8)}"[MaxDepth]"${']'.repeat(8)}`);
  });

  it('redacts a 10,000-level nested JSON attribute string without overflowing the stack', () => {
    const deepJson = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;

    const output = redactor.redactAttributes({ 'gen_ai.tool.call.arguments': deepJson });

    expect(output['gen_ai.tool.call.arguments']).toContain('[MaxDepth]');
  });

  it('ignores Symbol keys', () => {
    expect(redactor.redactValue({ [Symbol('k')]: 'bob@example.com', a: 1 })).toEqual({ a: 1 });
  });

  it('cuts a huge string, array and object and says how much was cut', () => {
    const output = redactor.redactValue({
      text: 'x'.repeat(120_000),
      items: Array.from({ length: 1_000 }, (_, index) => index),
      wide: Object.fromEntries(Array.from({ length: 320 }, (_, index) => [`k${index}`, index])),
    }) as { text: string; items: JsonValue[]; wide: Record<string, JsonValue> };

    expect(output.text).toMatch(/^x+…\[truncated \d+ chars\]$/);
    expect(output.text.length).toBeLessThanOrEqual(8192);
    expect(output.items).toHaveLength(201);
    expect(output.items[200]).toBe('[truncated 800 more items]');
    expect(Object.keys(output.wide)).toHaveLength(201);
    expect(output.wide['[truncated]']).toBe('120 more keys');
  });

  it('stops adding at maxTotalBytes and marks the cut', () => {
    const redactor = createRedactor({ limits: { maxTotalBytes: 2048 } });
    const rows = Array.from({ length: 100 }, (_, index) => ({
      index,
      note: 'lorem ipsum '.repeat(10),
    }));

    const serialized = JSON.stringify(redactor.redactValue(rows));

    expect(Buffer.byteLength(serialized)).toBeLessThanOrEqual(2048 + MARKER_SLACK_PER_LEVEL * 3);
    expect(serialized).toMatch(/\[truncated \d+ more items \(maxTotalBytes\)\]/);
  });

  it('handles a 10-million-element array without walking all of it', () => {
    const output = redactor.redactValue(new Array(10_000_000)) as JsonValue[];

    expect(output).toHaveLength(201);
    expect(output[0]).toBeNull();
  });

  it('removes NUL and lone surrogates from keys and values', () => {
    const output = redactor.redactValue({ 'k\u0000ey\uD800': 'v\u0000al\uDC00ue' });

    expect(output).toEqual({ 'key\uFFFD': 'val\uFFFDue' });
  });

  it('leaves its input unchanged', () => {
    const input = { password: 'x', nested: { to: 'bob@example.com', list: [1, 2] } };
    const snapshot = structuredClone(input);

    redactor.redactValue(input);

    expect(input).toEqual(snapshot);
  });
});

describe('redactValue: properties', () => {
  const hostileValue = fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withNullPrototype: true,
    withObjectString: true,
    withSet: true,
    withSparseArray: true,
    withTypedArray: true,
    withUnicodeString: true,
    maxDepth: 12,
  });

  it('never throws and stays within maxTotalBytes plus marker slack', () => {
    fc.assert(
      fc.property(
        hostileValue,
        fc.integer({ min: 64, max: 4096 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 50 }),
        (value, maxTotalBytes, maxDepth, maxKeys) => {
          const redactor = createRedactor({
            limits: { maxTotalBytes, maxDepth, maxKeys, maxArrayLength: maxKeys },
          });
          const serialized = JSON.stringify(redactor.redactValue(value));
          expect(Buffer.byteLength(serialized)).toBeLessThanOrEqual(
            maxTotalBytes + MARKER_SLACK_PER_LEVEL * (maxDepth + 1),
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('always produces JSON without NUL or lone surrogates that round-trips', () => {
    const redactor = createRedactor();
    const nasty = fc.oneof(
      hostileValue,
      fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })),
      fc.array(fc.string({ unit: 'binary' })),
    );

    fc.assert(
      fc.property(nasty, (value) => {
        const serialized = JSON.stringify(redactor.redactValue(value));
        expect(NUL_ESCAPE.test(serialized)).toBe(false);
        expect(LONE_SURROGATE.test(serialized)).toBe(false);
        expect(JSON.stringify(JSON.parse(serialized))).toBe(serialized);
      }),
      { numRuns: 500 },
    );
  });

  it('wraps arbitrary values in throwing Proxies and getters without throwing', () => {
    const redactor = createRedactor();
    const wrapped = hostileValue.chain((value) =>
      fc.constantFrom(
        { inner: value, proxy: throwingProxy },
        Object.defineProperty({ inner: value }, 'boom', {
          enumerable: true,
          get() {
            throw new Error('boom');
          },
        }),
        [value, throwingProxy, value],
      ),
    );

    fc.assert(
      fc.property(wrapped, (value) => {
        expect(() => JSON.stringify(redactor.redactValue(value))).not.toThrow();
      }),
      { numRuns: 200 },
    );
  });
});

describe('Postgres accepts the output', () => {
  let db: PGlite;

  beforeAll(async () => {
    db = await PGlite.create();
    await db.exec('CREATE TABLE sink (doc jsonb NOT NULL, body text NOT NULL)');
  });

  afterAll(async () => {
    await db.close();
  });

  it('stores redacted hostile values as jsonb and redacted text as text', async () => {
    const redactor = createRedactor();
    const cyclic: Record<string, unknown> = { note: 'nul \u0000 here', lone: '\uD83D' };
    cyclic.self = cyclic;
    const values: unknown[] = [
      cyclic,
      { 'bad\u0000key': 1, big: 10n, buffer: Buffer.from('hi'), when: new Date(Number.NaN) },
      JSON.parse('{"__proto__":{"x":"\\u0000"}}'),
      nested(10_000),
      throwingProxy,
    ];

    for (const value of values) {
      await db.query('INSERT INTO sink (doc, body) VALUES ($1::jsonb, $2)', [
        JSON.stringify(redactor.redactValue(value)),
        redactor.redactText('text \u0000 with a lone \uDC00 surrogate'),
      ]);
    }
    const { rows } = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM sink');

    expect(rows[0]?.count).toBe(values.length);
  });
});
