/**
 * Redactor throughput in MB/s (UTF-8 bytes of input per CPU second) over a mixed corpus: tool
 * parameters (`redactValue`) and chat messages (`redactText`), clean and with planted secrets.
 * Baselines in the same run: for text, one regex pass over the same strings (what a single
 * detector costs); for values, `JSON.parse(JSON.stringify(v))` (a plain deep copy, the floor for
 * any function that returns a new JSON value).
 *
 * The redactor remembers short clean strings without digits (enum values, statuses, fixed
 * prompts recur). `r.value.fresh` makes every string of the params distinct, more of them than
 * the redactor remembers: the cost when no value repeats.
 */
import { createRedactor } from '../src/sanitize/index.js';
import {
  chatMessage,
  PLANTED_SECRETS,
  seededRandom,
  toolParams,
  toolParamsWithSecrets,
} from './fixtures.js';
import { collectGarbage, cpuMicros } from './runtime.js';
import { type Figure, figure } from './stats.js';

export interface RedactorOptions {
  runs: number;
  /** Approximate corpus size per case, in bytes. */
  corpusBytes: number;
}

const GROUP = 'redactor';
/** Each case repeats over its corpus for at least this much CPU time, so short runs do not dominate. */
const MIN_RUN_MS = 300;
const EMAIL = /[\w.+-]+@[\w-]+\.[\w.-]+/g;

interface Case {
  id: string;
  label: string;
  bytes: number;
  run(): void;
}

function textCorpus(seed: number, withSecrets: boolean, totalBytes: number): string[] {
  const random = seededRandom(seed);
  const messages: string[] = [];
  let bytes = 0;
  while (bytes < totalBytes) {
    // Chat turns of 200 B to 4 KB, under the default maxStringLength (8192).
    const message = chatMessage(random, 200 + Math.floor(random() * 3800), withSecrets);
    messages.push(message);
    bytes += Buffer.byteLength(message);
  }
  return messages;
}

function valueCorpus(seed: number, withSecrets: boolean, totalBytes: number): unknown[] {
  const random = seededRandom(seed);
  const values: unknown[] = [];
  let bytes = 0;
  while (bytes < totalBytes) {
    const value = withSecrets ? toolParamsWithSecrets(random) : toolParams(random);
    values.push(value);
    bytes += Buffer.byteLength(JSON.stringify(value));
  }
  return values;
}

/** Every string of a JSON-like value rewritten by `rewrite` (keys kept). */
function mapStrings(value: unknown, rewrite: (text: string) => string): unknown {
  if (typeof value === 'string') return rewrite(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, rewrite));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, mapStrings(item, rewrite)]),
    );
  }
  return value;
}

/** A letters-only counter (`a`, `b`, … `ba`): unique suffixes that add no digit. */
function letterCounter(): () => string {
  let count = 0;
  return () => {
    let n = count++;
    let out = '';
    do {
      out = String.fromCharCode(97 + (n % 26)) + out;
      n = Math.floor(n / 26);
    } while (n > 0);
    return out;
  };
}

const utf8Bytes = (strings: readonly string[]) =>
  strings.reduce((n, s) => n + Buffer.byteLength(s), 0);
const jsonBytes = (values: readonly unknown[]) =>
  values.reduce<number>((n, v) => n + Buffer.byteLength(JSON.stringify(v)), 0);

/**
 * MB per second of this process's CPU time for one case: repeats its corpus until MIN_RUN_MS of
 * CPU time has passed. CPU time rather than wall time: on a shared machine the wall clock also
 * counts the time other processes held the core, while this single-threaded work's CPU time
 * stays what a quiet machine would show (GC helper threads add a little).
 */
function throughput(c: Case): number {
  collectGarbage();
  let passes = 0;
  const started = cpuMicros();
  let elapsed = 0;
  do {
    c.run();
    passes++;
    elapsed = (cpuMicros() - started) / 1000;
  } while (elapsed < MIN_RUN_MS);
  return (c.bytes * passes) / 1e6 / (elapsed / 1000);
}

export async function benchRedactor(options: RedactorOptions): Promise<Figure[]> {
  const redactor = createRedactor();
  const cleanText = textCorpus(11, false, options.corpusBytes);
  const dirtyText = textCorpus(12, true, options.corpusBytes);
  const cleanValues = valueCorpus(13, false, options.corpusBytes);
  const dirtyValues = valueCorpus(14, true, options.corpusBytes);
  const mixedText = [...cleanText, ...dirtyText];
  const mixedValues = [...cleanValues, ...dirtyValues];
  // The same params with every string made distinct: more distinct strings than the redactor
  // remembers (4096), so a pass over them finds none still remembered from the pass before.
  const next = letterCounter();
  const fresh = cleanValues.map((v) => mapStrings(v, (s) => `${s} ${next()}`));
  const secretEverywhere = (seed: number) => {
    let index = seed;
    return (v: unknown) =>
      mapStrings(v, () => PLANTED_SECRETS[index++ % PLANTED_SECRETS.length] as string);
  };
  const denseValues = valueCorpus(15, false, options.corpusBytes / 4).map(secretEverywhere(0));
  const oneStringValues = textCorpus(16, false, options.corpusBytes).map((s) => s.slice(0, 1024));

  const cases: Case[] = [
    {
      id: 'r.text.base',
      label: 'baseline: one regex pass (email) over the chat corpus',
      bytes: utf8Bytes(mixedText),
      run: () => {
        for (const s of mixedText) s.replace(EMAIL, '[email]');
      },
    },
    {
      id: 'r.text.clean',
      label: 'redactText, chat messages without secrets',
      bytes: utf8Bytes(cleanText),
      run: () => {
        for (const s of cleanText) redactor.redactText(s);
      },
    },
    {
      id: 'r.text.secrets',
      label: 'redactText, chat messages, a planted secret in one line of three',
      bytes: utf8Bytes(dirtyText),
      run: () => {
        for (const s of dirtyText) redactor.redactText(s);
      },
    },
    {
      id: 'r.value.base',
      label: 'baseline: JSON.parse(JSON.stringify(v)) over the params corpus',
      bytes: jsonBytes(mixedValues),
      run: () => {
        for (const v of mixedValues) JSON.parse(JSON.stringify(v));
      },
    },
    {
      id: 'r.value.clean',
      label: 'redactValue, ~1 KB tool params without secrets',
      bytes: jsonBytes(cleanValues),
      run: () => {
        for (const v of cleanValues) redactor.redactValue(v);
      },
    },
    {
      id: 'r.value.secrets',
      label: 'redactValue, ~1 KB tool params with planted keys, email, phone, card',
      bytes: jsonBytes(dirtyValues),
      run: () => {
        for (const v of dirtyValues) redactor.redactValue(v);
      },
    },
    {
      id: 'r.value.fresh',
      label:
        'redactValue, the clean params with every string distinct (no clean-string cache hits)',
      bytes: jsonBytes(fresh),
      run: () => {
        for (const v of fresh) redactor.redactValue(v);
      },
    },
    {
      id: 'r.value.dense',
      label: 'redactValue, ~1 KB tool params with a planted secret in every string',
      bytes: jsonBytes(denseValues),
      run: () => {
        for (const v of denseValues) redactor.redactValue(v);
      },
    },
    {
      id: 'r.value.string',
      label: 'redactValue, a single 1 KB chat string as the whole value',
      bytes: utf8Bytes(oneStringValues),
      run: () => {
        for (const v of oneStringValues) redactor.redactValue(v);
      },
    },
  ];
  const samples = new Map<string, number[]>(cases.map((c) => [c.id, []]));
  for (let run = -1; run < options.runs; run++) {
    for (const c of cases) {
      const mbPerS = throughput(c);
      if (run >= 0) samples.get(c.id)?.push(mbPerS);
    }
  }
  const result = (id: string, baseline?: Figure): Figure => {
    const c = cases.find((x) => x.id === id) as Case;
    return figure({
      group: GROUP,
      id,
      label: c.label,
      unit: 'MB/s',
      samples: samples.get(id) ?? [],
      baseline,
    });
  };
  const textBase = result('r.text.base');
  const valueBase = result('r.value.base');
  const textClean = result('r.text.clean', textBase);
  textClean.target = { text: '≥ 100 MB/s', met: textClean.median >= 100 };
  const valueClean = result('r.value.clean', valueBase);
  valueClean.target = { text: '≥ 120 MB/s', met: valueClean.median >= 120 };
  return [
    textBase,
    textClean,
    result('r.text.secrets', textBase),
    valueBase,
    valueClean,
    result('r.value.secrets', valueBase),
    result('r.value.fresh', valueBase),
    result('r.value.dense', valueBase),
    result('r.value.string', valueBase),
  ];
}
