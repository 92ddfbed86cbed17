import { UsageError } from './usage-error.js';

/** A whole decimal number within [min, max]: `0x10`, `1e3`, `+5`, `07.0` and blanks are refused. */
export function parseWholeNumber(
  option: string,
  value: string,
  { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  if (!/^(0|[1-9][0-9]*)$/.test(value)) {
    throw new UsageError(`${option} expects a whole decimal number, got "${value.slice(0, 40)}"`);
  }
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`${option} must be from ${min} to ${max}, got ${value.slice(0, 40)}`);
  }
  return number;
}
