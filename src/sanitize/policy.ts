import {
  BUILT_IN_DETECTOR_DEFINITIONS,
  BUILT_IN_DETECTORS,
  type BuiltInDetector,
} from './detectors.js';
import { compileLinearPattern } from './linear-pattern.js';
import type { RedactionLimits, RedactionPolicy, ReplacementMode, ValueDetector } from './types.js';

/**
 * Defaults: depth 8, 200 keys per object, 200 array items, 8192 characters per string and
 * 64 KiB of serialized JSON per value. Each cut leaves a marker (see `redactValue`).
 */
export const DEFAULT_LIMITS: Readonly<RedactionLimits> = Object.freeze({
  maxDepth: 8,
  maxKeys: 200,
  maxArrayLength: 200,
  maxStringLength: 8192,
  maxTotalBytes: 64 * 1024,
});

/** Deeper limits would let hostile nesting exhaust the stack of the recursive walk. */
const MAX_DEPTH_CEILING = 1000;

const POLICY_OPTIONS = [
  'keys',
  'allowKeys',
  'detectors',
  'disable',
  'modes',
  'hashKey',
  'limits',
] as const;
const DETECTOR_OPTIONS = ['name', 'pattern', 'validate', 'mode'];
const MODES: readonly ReplacementMode[] = ['mask', 'hash', 'remove'];
const DETECTOR_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** A policy checked and merged with the built-ins, ready to compile. */
export interface ResolvedPolicy {
  detectors: BuiltInDetector[];
  modeOf: (detector: BuiltInDetector) => ReplacementMode;
  hashKey: string | Uint8Array | undefined;
  extraKeys: Array<string | RegExp>;
  allowKeys: string[];
  limits: RedactionLimits;
}

function fail(option: string, problem: string): never {
  throw new TypeError(`createRedactor: policy.${option} ${problem}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rejectUnknownKeys(
  value: Record<string, unknown>,
  known: readonly string[],
  option: string,
) {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `createRedactor: unknown option ${option ? `${option}.` : ''}${key}; expected one of ${known.join(', ')}`,
      );
    }
  }
}

function checkMode(mode: unknown, option: string): ReplacementMode {
  if (!MODES.includes(mode as ReplacementMode)) {
    fail(option, `must be one of ${MODES.join(', ')} (got ${String(mode)})`);
  }
  return mode as ReplacementMode;
}

function checkStringArray(value: unknown, option: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) {
    fail(option, 'must be an array of non-empty strings');
  }
  return value;
}

function checkKeys(value: unknown): Array<string | RegExp> {
  const valid =
    Array.isArray(value) &&
    value.every((key) => (typeof key === 'string' && key !== '') || key instanceof RegExp);
  if (!valid) fail('keys', 'must be an array of non-empty strings or RegExps');
  return value as Array<string | RegExp>;
}

function checkDetector(value: unknown, index: number): ValueDetector {
  const option = `detectors[${index}]`;
  if (!isPlainObject(value)) fail(option, 'must be an object { name, pattern, validate?, mode? }');
  rejectUnknownKeys(value, DETECTOR_OPTIONS, `detectors[${index}]`);
  if (typeof value.name !== 'string' || !DETECTOR_NAME.test(value.name)) {
    fail(`${option}.name`, 'must be 1–64 characters of letters, digits, _, . or -');
  }
  if (!(value.pattern instanceof RegExp) || !value.pattern.global) {
    fail(`${option}.pattern`, 'must be a global RegExp (add the g flag)');
  }
  const linear = compileLinearPattern(value.pattern);
  if ('refused' in linear) {
    fail(
      `${option}.pattern`,
      `cannot run in linear time (RE2 syntax: no backreferences or lookarounds): ${linear.refused}`,
    );
  }
  if (value.validate !== undefined && typeof value.validate !== 'function') {
    fail(`${option}.validate`, 'must be a function (match: string) => boolean');
  }
  if (value.mode !== undefined) checkMode(value.mode, `${option}.mode`);
  return value as unknown as ValueDetector;
}

function checkLimits(value: unknown): RedactionLimits {
  if (!isPlainObject(value)) fail('limits', 'must be an object');
  rejectUnknownKeys(value, Object.keys(DEFAULT_LIMITS), 'limits');
  const limits = { ...DEFAULT_LIMITS };
  for (const [name, limit] of Object.entries(value)) {
    if (limit === undefined) continue;
    const ceiling = name === 'maxDepth' ? MAX_DEPTH_CEILING : Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > ceiling) {
      fail(`limits.${name}`, `must be an integer from 1 to ${ceiling} (got ${String(limit)})`);
    }
    limits[name as keyof RedactionLimits] = limit as number;
  }
  return limits;
}

/** User detectors replace a built-in of the same name in place; the others run after the built-ins. */
function mergeDetectors(userDetectors: ValueDetector[], disabled: Set<string>): BuiltInDetector[] {
  const byName = new Map(userDetectors.map((detector) => [detector.name, detector]));
  const merged: BuiltInDetector[] = [];
  for (const builtIn of BUILT_IN_DETECTOR_DEFINITIONS) {
    const override = byName.get(builtIn.name);
    if (override) {
      merged.push(override);
      byName.delete(builtIn.name);
    } else if (!disabled.has(builtIn.name)) {
      merged.push(builtIn);
    }
  }
  merged.push(...byName.values());
  return merged.map((detector) =>
    userDetectors.includes(detector) ? { ...detector, linear: true } : detector,
  );
}

/** Validates a policy eagerly: a mistake fails at `createRedactor`, never mid-export. */
export function resolvePolicy(policy: RedactionPolicy | undefined): ResolvedPolicy {
  const options: unknown = policy ?? {};
  if (!isPlainObject(options)) {
    throw new TypeError('createRedactor: policy must be an object');
  }
  rejectUnknownKeys(options, POLICY_OPTIONS, '');

  const extraKeys = options.keys === undefined ? [] : checkKeys(options.keys);
  const allowKeys =
    options.allowKeys === undefined ? [] : checkStringArray(options.allowKeys, 'allowKeys');

  if (options.detectors !== undefined && !Array.isArray(options.detectors)) {
    fail('detectors', 'must be an array of detectors');
  }
  const userDetectors = ((options.detectors as unknown[] | undefined) ?? []).map(checkDetector);
  const seen = new Set<string>();
  for (const detector of userDetectors) {
    if (seen.has(detector.name)) fail('detectors', `has two detectors named ${detector.name}`);
    seen.add(detector.name);
  }

  const disabled = new Set(
    options.disable === undefined ? [] : checkStringArray(options.disable, 'disable'),
  );
  for (const name of disabled) {
    if (!BUILT_IN_DETECTORS.includes(name)) {
      fail(
        'disable',
        `names unknown detector ${name}; built-ins are ${BUILT_IN_DETECTORS.join(', ')}`,
      );
    }
  }

  const modes = new Map<string, ReplacementMode>();
  if (options.modes !== undefined) {
    if (!isPlainObject(options.modes)) fail('modes', 'must be an object { detectorName: mode }');
    for (const [name, mode] of Object.entries(options.modes)) {
      if (name !== '*' && !BUILT_IN_DETECTORS.includes(name) && !seen.has(name)) {
        fail(
          `modes.${name}`,
          `names no detector; use '*' or one of ${BUILT_IN_DETECTORS.join(', ')}`,
        );
      }
      modes.set(name, checkMode(mode, `modes.${name}`));
    }
  }
  const defaultMode = modes.get('*') ?? 'mask';

  const hashKey = options.hashKey;
  if (hashKey !== undefined) {
    const valid =
      (typeof hashKey === 'string' && hashKey !== '') ||
      (hashKey instanceof Uint8Array && hashKey.length > 0);
    if (!valid) fail('hashKey', 'must be a non-empty string or Uint8Array');
  }

  return {
    detectors: mergeDetectors(userDetectors, disabled),
    modeOf: (detector) => modes.get(detector.name) ?? detector.mode ?? defaultMode,
    hashKey: hashKey as string | Uint8Array | undefined,
    extraKeys,
    allowKeys,
    limits: options.limits === undefined ? { ...DEFAULT_LIMITS } : checkLimits(options.limits),
  };
}
