import type { BuiltInDetector } from './detectors.js';
import { compileLinearPattern, type ExecPattern } from './linear-pattern.js';
import { createReplacement } from './replacement.js';
import type { ReplacementMode } from './types.js';

/** A detector ready to run: its own RegExp instance and a function from match to replacement. */
interface CompiledDetector {
  pattern: ExecPattern;
  hint: ((text: string) => boolean) | undefined;
  /** The replacement and how many characters of the match it replaces; undefined when rejected. */
  replaceMatch: (match: RegExpExecArray) => readonly [string, number] | undefined;
  rescanAfterReject: boolean;
  scan: ((text: string) => ReadonlyArray<readonly [number, number]>) | undefined;
  replace: (secret: string) => string;
}

export interface TextRedactionConfig {
  detectors: readonly BuiltInDetector[];
  modeOf: (detector: BuiltInDetector) => ReplacementMode;
  hashKey: Uint8Array | string;
}

/**
 * A named group `keep` at the start of the match (a scheme, `Bearer `, `password=`) stays; the
 * rest is the secret. `locate` picks spans inside the secret, else `validate` accepts or rejects
 * it whole. With `rescanAfterReject`, text after the last located span is left for the next scan
 * step (it may start another match). Validation throws propagate: the caller turns them into
 * `[REDACTION_FAILED]`.
 */
function createMatchReplacer(
  detector: BuiltInDetector,
  replace: (secret: string) => string,
): CompiledDetector['replaceMatch'] {
  const { validate, locate } = detector;
  const consumeToLastSpan = detector.rescanAfterReject === true;
  return (match) => {
    const text = match[0];
    const keep = match.groups?.keep;
    const prefix = keep !== undefined && text.startsWith(keep) ? keep : '';
    const secret = prefix ? text.slice(prefix.length) : text;
    if (secret === '') return undefined;
    if (locate) {
      const spans = locate(secret);
      if (spans.length === 0) return undefined;
      let result = prefix;
      let offset = 0;
      for (const [start, end] of spans) {
        result += secret.slice(offset, start) + replace(secret.slice(start, end));
        offset = end;
      }
      if (consumeToLastSpan) return [result, prefix.length + offset];
      return [result + secret.slice(offset), text.length];
    }
    if (validate && !validate(secret)) return undefined;
    return [prefix + replace(secret), text.length];
  };
}

function applySpans(detector: CompiledDetector, text: string): string {
  const spans = (detector.scan as NonNullable<CompiledDetector['scan']>)(text);
  if (spans.length === 0) return text;
  let output = '';
  let copied = 0;
  for (const [start, end] of spans) {
    if (start < copied) continue;
    output += text.slice(copied, start) + detector.replace(text.slice(start, end));
    copied = end;
  }
  return output + text.slice(copied);
}

function applyDetector(detector: CompiledDetector, text: string): string {
  if (detector.scan !== undefined) return applySpans(detector, text);
  const { pattern } = detector;
  pattern.lastIndex = 0;
  let output = '';
  let copied = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (match[0] === '') {
      pattern.lastIndex = match.index + 1;
      continue;
    }
    const replaced = detector.replaceMatch(match);
    if (replaced === undefined) {
      if (detector.rescanAfterReject) pattern.lastIndex = match.index + 1;
      continue;
    }
    const [replacement, consumed] = replaced;
    output += text.slice(copied, match.index) + replacement;
    copied = match.index + consumed;
    pattern.lastIndex = copied;
  }
  return copied === 0 && output === '' ? text : output + text.slice(copied);
}

/**
 * Compiles detectors into one function that applies them in order. Each detector gets its own
 * RegExp copy, so a caller's `lastIndex` can never leak state into the redactor.
 */
export function compileTextRedaction(config: TextRedactionConfig): (text: string) => string {
  const compiled: CompiledDetector[] = config.detectors.map((detector) => {
    const replace = createReplacement(detector.name, config.modeOf(detector), config.hashKey);
    return {
      pattern: detector.linear
        ? (compileLinearPattern(detector.pattern) as ExecPattern)
        : new RegExp(detector.pattern.source, detector.pattern.flags),
      hint: detector.hint,
      replaceMatch: createMatchReplacer(detector, replace),
      rescanAfterReject: detector.rescanAfterReject === true,
      scan: detector.createScan?.() ?? detector.scan,
      replace,
    };
  });
  return (text) => {
    let result = text;
    for (const detector of compiled) {
      if (detector.hint !== undefined && !detector.hint(result)) continue;
      result = applyDetector(detector, result);
    }
    return result;
  };
}
