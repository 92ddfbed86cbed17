import type { BuiltInDetector } from './detectors.js';
import { compileLinearPattern, type ExecPattern } from './linear-pattern.js';
import { createReplacement } from './replacement.js';
import { FREE_DIGIT, LETTERS_THEN_DIGIT, type TextFeatures } from './text-features.js';
import type { ReplacementMode } from './types.js';

/** Distinct character-class sets whose candidate detectors are remembered per redactor. */
const MAX_CANDIDATE_LISTS = 1024;
/** Lengths told apart by the candidate cache; longer texts share the last bucket. */
const LENGTH_BUCKETS = 64;

/** A detector ready to run: its own RegExp instance and a function from match to replacement. */
interface CompiledDetector {
  pattern: ExecPattern;
  /** `requires` flattened: 0 where the detector states no requirement. */
  needsAll: number;
  needsAny: number;
  needsDigits: number;
  needsNumberDigits: number;
  needsDots: number;
  /** Shortest text the pattern can match in (from `requires`). */
  minLength: number;
  needsTokenRun: number;
  /** A requirement reads the number facts (`TextFeatures.measure`). */
  needsNumbers: boolean;
  gate: ((features: TextFeatures) => boolean) | undefined;
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
    // A validate that re-enters the redactor scans with this same RegExp: keep our place.
    const resume = pattern.lastIndex;
    const replaced = detector.replaceMatch(match);
    pattern.lastIndex = resume;
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

/** Applies the detectors in order; `features` is the redactor's prefilter, rescanned as needed. */
export type TextRedaction = (text: string, features: TextFeatures) => string;

/**
 * Compiles detectors into one function that applies them in order. Each detector gets its own
 * RegExp copy, so a caller's `lastIndex` can never leak state into the redactor. A detector runs
 * only when its gate (from the prefilter's facts) and its hint pass; after it rewrites the text,
 * the facts are widened for the detectors after it, not recomputed.
 */
export function compileTextRedaction(config: TextRedactionConfig): TextRedaction {
  const compiled: CompiledDetector[] = config.detectors.map((detector) => {
    const replace = createReplacement(detector.name, config.modeOf(detector), config.hashKey);
    const requires = detector.requires ?? {};
    return {
      pattern: detector.linear
        ? (compileLinearPattern(detector.pattern) as ExecPattern)
        : new RegExp(detector.pattern.source, detector.pattern.flags),
      needsAll: requires.all ?? 0,
      needsAny: requires.any ?? 0,
      needsDigits: requires.digits ?? 0,
      needsNumberDigits: requires.numberDigits ?? 0,
      needsDots: requires.dots ?? 0,
      minLength: Math.max(
        requires.length ?? 0,
        requires.tokenRun ?? 0,
        requires.digits ?? 0,
        requires.numberDigits ?? 0,
        requires.dots ?? 0,
      ),
      needsTokenRun: requires.tokenRun ?? 0,
      needsNumbers:
        requires.numberDigits !== undefined ||
        ((requires.all ?? 0) & (LETTERS_THEN_DIGIT | FREE_DIGIT)) !== 0,
      gate: detector.gate,
      hint: detector.hint,
      replaceMatch: createMatchReplacer(detector, replace),
      rescanAfterReject: detector.rescanAfterReject === true,
      scan: detector.createScan?.() ?? detector.scan,
      replace,
    };
  });
  // Which detectors a set of character classes and a length leave in play, cached per pair:
  // strings of the same make-up (ids, dates, prose) repeat, and most rule out most detectors.
  const candidateLists = new Map<number, readonly number[]>();
  const candidatesFor = (features: TextFeatures): readonly number[] => {
    const { flags } = features;
    const length = Math.min(features.text.length, LENGTH_BUCKETS);
    // The token run is known after a short text's scan; unknown counts as the longest bucket.
    const run =
      features.longestRun < 0 ? LENGTH_BUCKETS : Math.min(features.longestRun, LENGTH_BUCKETS);
    const key = (flags * (LENGTH_BUCKETS + 1) + length) * (LENGTH_BUCKETS + 1) + run;
    let list = candidateLists.get(key);
    if (list === undefined) {
      list = compiled.flatMap(({ needsAll, needsAny, minLength, needsTokenRun }, index) =>
        (flags & needsAll) === needsAll &&
        (needsAny === 0 || (flags & needsAny) !== 0) &&
        (length === LENGTH_BUCKETS || length >= minLength) &&
        (run === LENGTH_BUCKETS || run >= needsTokenRun)
          ? [index]
          : [],
      );
      if (candidateLists.size >= MAX_CANDIDATE_LISTS) candidateLists.clear();
      candidateLists.set(key, list);
    }
    return list;
  };

  return (text, features) => {
    let result = text;
    let candidates = candidatesFor(features.of(text));
    for (let position = 0; position < candidates.length; position++) {
      const index = candidates[position] as number;
      const detector = compiled[index] as CompiledDetector;
      if (features.digits < detector.needsDigits) continue;
      if (detector.needsNumbers) {
        // Measuring may clear adjacency flags the candidate list was chosen with.
        features.measure();
        if ((features.flags & detector.needsAll) !== detector.needsAll) continue;
      }
      if (features.numberDigits < detector.needsNumberDigits) continue;
      if (features.dots < detector.needsDots) continue;
      if (detector.needsTokenRun !== 0 && !features.tokenRun(detector.needsTokenRun)) continue;
      if (detector.gate !== undefined && !detector.gate(features)) continue;
      if (detector.hint !== undefined && !detector.hint(result)) continue;
      const redacted = applyDetector(detector, result);
      // A validate that re-entered the redactor pointed the facts at another string: `of`
      // rescans `result` then.
      features.of(result);
      if (redacted !== result) {
        features.widen(redacted);
        result = redacted;
        // The widened classes may let in detectors further down the order.
        candidates = candidatesFor(features);
        position = candidates.findIndex((later) => later > index) - 1;
        if (position < -1) break;
      }
    }
    return result;
  };
}
