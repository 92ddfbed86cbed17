import { describe, expect, it } from 'vitest';
import {
  AITRAIL_ERROR_CODES,
  AitrailError,
  adviceFor,
  classifyFailure,
  describeWithAdvice,
  isAitrailError,
} from '../src/errors.js';
import { VerifyScopeError } from '../src/store/verify/index.js';

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('AitrailError', () => {
  it('carries a code from the documented union and the cause', () => {
    const cause = withCode('ECONNREFUSED');
    const error = new AitrailError('DATABASE_UNAVAILABLE', 'opening the store failed', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('AitrailError');
    expect(error.code).toBe('DATABASE_UNAVAILABLE');
    expect(error.cause).toBe(cause);
    expect(AITRAIL_ERROR_CODES).toContain(error.code);
    expect(isAitrailError(error, 'DATABASE_UNAVAILABLE')).toBe(true);
    expect(isAitrailError(error, 'WRITE_TIMEOUT')).toBe(false);
  });

  it('is the base of the store errors that have their own class', () => {
    const error = new VerifyScopeError('the role cannot see every tenant');
    expect(error).toBeInstanceOf(AitrailError);
    expect(error.code).toBe('VERIFY_SCOPE');
  });
});

describe('advice chosen from the classified cause', () => {
  it('asks whether the database is running when the connection is refused', () => {
    expect(classifyFailure(withCode('ECONNREFUSED'))).toBe('connection');
    expect(adviceFor(withCode('ECONNREFUSED'))).toMatch(/database running.*DATABASE_URL/);
  });

  it('names the roles to use on a permission error, and only then', () => {
    expect(adviceFor(withCode('42501'))).toMatch(/aitrail migrate.*owns the schema/);
    expect(adviceFor(withCode('ECONNREFUSED'))).not.toMatch(/owns the schema/);
  });

  it('finds the cause through wrappers and aggregate errors', () => {
    const aggregate = new AggregateError([withCode('ECONNREFUSED')], 'connect failed');
    const wrapped = new Error('migrate failed', { cause: aggregate });
    expect(classifyFailure(wrapped)).toBe('connection');
    expect(classifyFailure(new Error('x', { cause: withCode('28P01') }))).toBe('authentication');
  });

  it('points at aitrail migrate when the table is missing', () => {
    expect(adviceFor(withCode('42P01'))).toMatch(/run `aitrail migrate`/);
  });

  it('adds nothing it cannot back up for an unknown cause', () => {
    expect(adviceFor(new Error('something else'))).toBe('');
    expect(describeWithAdvice('writing failed', new Error('boom'))).toBe('writing failed: boom.');
  });
});
