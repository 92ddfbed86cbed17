/**
 * What aitrail's worker threads (writer, verify walks, the embedded store's host) take from the
 * app's Node options. The app's preloads stay out: an instrumentation or APM agent loaded with
 * `--import`/`--require` (on the command line or in NODE_OPTIONS, which a worker reads again from
 * its env) would start in our thread and trace or export our own database and file I/O. V8 and
 * process-wide options (`--max-old-space-size`, `--stack-size`, `--expose-gc`, …) stay out too:
 * `new Worker` refuses them (ERR_WORKER_INVALID_EXEC_ARGV), and they already apply process-wide.
 */

/**
 * Per-thread options a worker accepts and that change how our code loads or warns, or profile it
 * (a CPU or heap profile of the app then includes our threads, as Node's own inheritance would).
 */
const PASSED_FLAGS: ReadonlyArray<readonly [flag: string, takesValue: boolean]> = [
  ['--cpu-prof', false],
  ['--cpu-prof-dir', true],
  ['--cpu-prof-name', true],
  ['--cpu-prof-interval', true],
  ['--heap-prof', false],
  ['--heap-prof-dir', true],
  ['--heap-prof-name', true],
  ['--heap-prof-interval', true],
  ['--conditions', true],
  ['-C', true],
  ['--enable-source-maps', false],
  ['--no-deprecation', false],
  ['--no-warnings', false],
  ['--disable-warning', true],
  ['--trace-warnings', false],
  ['--trace-deprecation', false],
  ['--throw-deprecation', false],
  ['--pending-deprecation', false],
];

/** Node options that load code into every thread before its entry point. */
const PRELOAD_FLAGS = ['--require', '-r', '--import', '--loader', '--experimental-loader'];

/**
 * `execArgv` for one of our workers: the app's options that are in `PASSED_FLAGS` (with their
 * values), and `--import tsx` when the worker's entry is TypeScript source (tests, benchmarks).
 */
export function threadExecArgv(
  entryFromSource: boolean,
  appArgs: readonly string[] = process.execArgv,
): string[] {
  const kept: string[] = [];
  for (let i = 0; i < appArgs.length; i++) {
    const arg = appArgs[i] as string;
    const passed = PASSED_FLAGS.find(([flag]) => arg === flag || arg.startsWith(`${flag}=`));
    if (passed === undefined) continue;
    kept.push(arg);
    const [flag, takesValue] = passed;
    if (takesValue && arg === flag && i + 1 < appArgs.length) kept.push(appArgs[++i] as string);
  }
  if (entryFromSource) kept.push('--import', 'tsx');
  return kept;
}

/** The app's environment for a worker, with NODE_OPTIONS stripped of preloads. */
export function threadEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env.NODE_OPTIONS === undefined) return env;
  const options = withoutPreloads(nodeOptionsTokens(env.NODE_OPTIONS)).join(' ');
  return { ...env, NODE_OPTIONS: options };
}

/** `args` without preload options (`--import x`, `--require=x`, …) and their values. */
function withoutPreloads(args: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const flag = PRELOAD_FLAGS.find((f) => arg === f || arg.startsWith(`${f}=`));
    if (flag === undefined) kept.push(arg);
    else if (arg === flag) i += 1;
  }
  return kept;
}

/** NODE_OPTIONS split as Node splits it: on spaces, double quotes keeping a value together. */
function nodeOptionsTokens(value: string): string[] {
  return [...value.matchAll(/(?:"(?:\\.|[^"\\])*"|[^\s"])+/g)].map((match) => match[0]);
}
