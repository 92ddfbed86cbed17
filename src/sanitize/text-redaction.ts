import type { BuiltInDetector } from './detectors.js';
import { createReplacement } from './replacement.js';
import type { ReplacementMode } from './types.js';

/** A detector ready to run: own RegExp instance, replacement chosen, `replace` callback built. */
interface CompiledDetector {
  pattern: RegExp;
  hint: ((text: string) => boolean) | undefined;
  replacer: (match: string, ...rest: unknown[]) => string;
}

export interface TextRedactionConfig {
  detectors: readonly BuiltInDetector[];
  modeOf: (detector: BuiltInDetector) => ReplacementMode;
  hashKey: Uint8Array | string;
}

/**
 * Builds the replacer passed to `String.prototype.replace`. A named group `keep` at the start of
 * the match (a scheme, `Bearer `, `password=`) stays; the rest is the secret. Validation throws
 * propagate: the caller turns them into `[REDACTION_FAILED]`.
 */
function createReplacer(
  detector: BuiltInDetector,
  replace: (secret: string) => string,
): CompiledDetector['replacer'] {
  const validate = detector.validate;
  const locate = detector.locate;
  return (match, ...rest) => {
    const groups = rest[rest.length - 1];
    const keep =
      typeof groups === 'object' && groups !== null
        ? (groups as Record<string, string | undefined>).keep
        : undefined;
    const prefix = keep !== undefined && match.startsWith(keep) ? keep : '';
    const secret = prefix ? match.slice(prefix.length) : match;
    if (secret === '') return match;
    if (locate) {
      let result = prefix;
      let offset = 0;
      for (const [start, end] of locate(secret)) {
        result += secret.slice(offset, start) + replace(secret.slice(start, end));
        offset = end;
      }
      return result + secret.slice(offset);
    }
    if (validate && !validate(secret)) return match;
    return prefix + replace(secret);
  };
}

/**
 * Compiles detectors into one function that applies them in order. Each detector gets its own
 * RegExp copy, so a caller's `lastIndex` can never leak state into the redactor.
 */
export function compileTextRedaction(config: TextRedactionConfig): (text: string) => string {
  const compiled: CompiledDetector[] = config.detectors.map((detector) => ({
    pattern: new RegExp(detector.pattern.source, detector.pattern.flags),
    hint: detector.hint,
    replacer: createReplacer(
      detector,
      createReplacement(detector.name, config.modeOf(detector), config.hashKey),
    ),
  }));
  return (text) => {
    let result = text;
    for (const detector of compiled) {
      if (detector.hint !== undefined && !detector.hint(result)) continue;
      detector.pattern.lastIndex = 0;
      result = result.replace(detector.pattern, detector.replacer);
    }
    return result;
  };
}
