import { RE2JS } from 're2js';

/**
 * User-supplied detector patterns run on RE2 semantics (re2js, a pure-JavaScript port of RE2):
 * matching time is linear in the input whatever the pattern, so `/(a+)+$/` cannot stall the
 * event loop. Backreferences and lookarounds, which need backtracking, are refused when the
 * policy is compiled.
 *
 * re2js rather than the native `re2` package: `re2` needs an install script (a prebuilt download
 * or a node-gyp build of several minutes) that npm 11 does not run unless allowed, and that no
 * offline or script-less install can complete; re2js installs as plain JavaScript.
 */

/** The subset of `RegExp` the text redactor uses: `lastIndex` and `exec`. */
export interface ExecPattern {
  lastIndex: number;
  exec(text: string): RegExpExecArray | null;
}

const FLAG_BITS: Readonly<Record<string, number>> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
  g: 0,
  u: 0,
  d: 0,
};

/** Compiles `pattern` for RE2, or returns the reason it cannot run in linear time. */
export function compileLinearPattern(pattern: RegExp): ExecPattern | { refused: string } {
  let flags = 0;
  for (const flag of pattern.flags) {
    const bit = FLAG_BITS[flag];
    if (bit === undefined) return { refused: `flag ${flag} is not supported` };
    flags |= bit;
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(RE2JS.translateRegExp(pattern.source), flags);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { refused: reason };
  }
  const hasKeep = /\(\?P?<keep>/.test(pattern.source);
  let matcher: ReturnType<RE2JS['matcher']> | undefined;
  let matcherText: string | undefined;
  const linear: ExecPattern = {
    lastIndex: 0,
    exec(text) {
      if (matcherText !== text || matcher === undefined) {
        matcher = compiled.matcher(text);
        matcherText = text;
      }
      if (this.lastIndex > text.length || !matcher.find(this.lastIndex)) {
        this.lastIndex = 0;
        return null;
      }
      const result = [matcher.group() ?? ''] as unknown as RegExpExecArray;
      result.index = matcher.start();
      result.input = text;
      const keep = hasKeep ? matcher.group('keep') : null;
      result.groups = keep === null ? undefined : { keep };
      this.lastIndex = matcher.end();
      return result;
    },
  };
  return linear;
}
