import { ACTOR_TYPES, type AuditActor } from '../actions.js';

/** Strict options: an unknown key is a programming error worth stopping for. */
export function checkStrictKeys(fn: string, options: unknown, allowed: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${fn}: options must be an object`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`${fn}: unknown option "${key}" (allowed: ${allowed.join(', ')})`);
    }
  }
}

export function checkString(fn: string, name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(
      `${fn}: ${name} is required and must be a non-empty string, got ${describe(value)}`,
    );
  }
}

export function checkOptionalString(
  fn: string,
  name: string,
  value: unknown,
): asserts value is string | undefined {
  if (value !== undefined) checkString(fn, name, value);
}

export function checkNumber(fn: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(
      `${fn}: ${name} is required and must be a finite number, got ${describe(value)}`,
    );
  }
}

export function checkOptionalNumber(
  fn: string,
  name: string,
  value: unknown,
): asserts value is number | undefined {
  if (value !== undefined) checkNumber(fn, name, value);
}

export function checkOneOf<T extends string>(
  fn: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
): asserts value is T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new TypeError(
      `${fn}: ${name} must be one of ${allowed.join(', ')}, got ${describe(value)}`,
    );
  }
}

export function checkActor(
  fn: string,
  name: string,
  value: unknown,
  required: boolean,
): asserts value is AuditActor {
  if (value === undefined && !required) return;
  if (value === null || typeof value !== 'object') {
    throw new TypeError(`${fn}: ${name} must be { type, id }, got ${describe(value)}`);
  }
  const actor = value as Record<string, unknown>;
  checkStrictKeys(`${fn}: ${name}`, actor, ['type', 'id']);
  checkOneOf(fn, `${name}.type`, actor.type, ACTOR_TYPES);
  checkString(fn, `${name}.id`, actor.id);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
