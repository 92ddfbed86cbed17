import { describe, expect, it } from 'vitest';
import { HeldValue } from '../src/instrument/sanitized-values.js';
import { createRedactor } from '../src/sanitize/index.js';

const redactor = createRedactor();
const EMAIL = 'alice.smith@example.com';
const KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD';

/** `[1, <empty>, 3]`: an array with a hole. */
function holes(): unknown[] {
  const array = [1];
  array[2] = 3;
  return array;
}

/** Values whose held copy must redact exactly as the value itself does at the call. */
const PLAIN_CASES: Array<[string, () => unknown]> = [
  ['a string with a secret', () => `key ${KEY}`],
  [
    'numbers, including a card number, -0, NaN and Infinity',
    () => [4111111111111111, -0, Number.NaN, Number.POSITIVE_INFINITY],
  ],
  ['nested objects and arrays', () => ({ a: { b: [{ to: EMAIL }, [1, 2, { apiKey: KEY }]] } })],
  ['a Date', () => ({ since: new Date('2026-11-01T00:00:00Z'), bad: new Date(Number.NaN) })],
  ['an array with holes', () => holes()],
  ['an own __proto__ key', () => JSON.parse(`{"__proto__": {"password": "hunter2"}, "ok": 1}`)],
  ['a null-prototype object', () => Object.assign(Object.create(null), { email: EMAIL })],
  [
    'a getter',
    () => ({
      get owner() {
        return EMAIL;
      },
    }),
  ],
  [
    'bigint, symbol, function and undefined values',
    () => ({ n: 10n, s: Symbol('x'), f() {}, u: undefined }),
  ],
  ['integer-like keys', () => ({ b: 1, 2: 'two', a: EMAIL, 1: 'one' })],
  [
    'shared references',
    () => {
      const shared = { to: EMAIL };
      return { x: shared, y: shared };
    },
  ],
];

describe('HeldValue.capture', () => {
  it.each(PLAIN_CASES)('redacts %s later exactly as at the call', (_, make) => {
    expect(HeldValue.capture(redactor, make()).value()).toEqual(redactor.redactValue(make()));
  });

  it('is unaffected by what the caller does to its value afterwards', () => {
    const params = { to: 'bob', nested: { items: ['a'] }, when: new Date(0) };
    const held = HeldValue.capture(redactor, params);
    params.to = EMAIL;
    params.nested.items.push(KEY);
    params.when.setTime(1e12);
    expect(held.value()).toEqual({
      to: 'bob',
      nested: { items: ['a'] },
      when: '1970-01-01T00:00:00.000Z',
    });
  });

  it('redacts at once what is not plain data, so later changes cannot reach the record', () => {
    class Order {
      note = 'fine';
      toJSON() {
        return { note: this.note };
      }
    }
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const order = new Order();
    const values: unknown[] = [new Map([['to', EMAIL]]), order, cyclic, Buffer.from('x'), [order]];
    const held = values.map((value) => HeldValue.capture(redactor, value));
    const expected = values.map((value) => redactor.redactValue(value));
    order.note = KEY;
    expect(held.map((h) => h.value())).toEqual(expected);
  });

  it('reads a throwing getter as the redactor does, without throwing', () => {
    const value = {
      get broken(): string {
        throw new Error('no');
      },
    };
    expect(HeldValue.capture(redactor, value).value()).toEqual(redactor.redactValue(value));
  });

  it('ignores enumerable keys a polluted prototype adds', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.injected = { secret: KEY };
    try {
      const value = { ok: { fine: true } };
      expect(HeldValue.capture(redactor, value).value()).toEqual(redactor.redactValue(value));
    } finally {
      delete proto.injected;
    }
  });
});
