/**
 * The shape of one `aitrail` command. A command module exports one value:
 *
 *     export const command = defineCommand({
 *       name: 'prove',
 *       summary: 'Print a JSON inclusion proof for one row',
 *       positionals: [{ name: 'EVENT_ID', description: 'the row to prove', required: true }],
 *       flags: { 'database-url': DATABASE_URL_FLAG },
 *       async run({ flags, positionals, io }) { ... },
 *     });
 *
 * and `src/cli/main.ts` lists it with one import and one entry. The flag declaration is the
 * only one: it drives parsing, `--help` and shell completion. Throw `UsageError` for bad input
 * (exit 2) and `CheckFailed` when a check ran and failed (exit 1).
 */
export interface FlagSpec {
  type: 'string' | 'boolean';
  /** One help line: what the flag does. */
  description: string;
  /** A one-letter alias (`-o` for `--format`). */
  short?: string;
  /** The flag may repeat; its value is then a string array. */
  multiple?: boolean;
  /** Placeholder in help, e.g. `ID`, `24h|ISO`. */
  valueName?: string;
  /** The only values allowed; checked when parsing and offered by completion. */
  choices?: readonly string[];
  /** The value when the flag is absent (shown in help). */
  default?: string;
}

export type Flags = Record<string, FlagSpec>;

export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
  /** Fixed words (a subcommand such as `export`), offered by completion. */
  choices?: readonly string[];
}

type FlagValue<S extends FlagSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['multiple'] extends true
    ? string[]
    : string;

/** Parsed flags: declared defaults are filled in; other absent flags are undefined. */
export type FlagValues<F extends Flags> = { [K in keyof F]?: FlagValue<F[K]> };

export interface CliIo {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export interface CommandInput<F extends Flags> {
  flags: FlagValues<F>;
  positionals: string[];
  io: CliIo;
}

export interface CliCommand<F extends Flags = Flags> {
  name: string;
  /** One line for the command list in `aitrail --help`. */
  summary: string;
  /** Paragraphs shown under the usage line of `aitrail <name> --help`. */
  details?: string;
  positionals?: readonly PositionalSpec[];
  flags: F;
  run(input: CommandInput<F>): Promise<void>;
}

/** Identity, for type inference of `flags` inside `run`. */
export function defineCommand<F extends Flags>(command: CliCommand<F>): CliCommand<F> {
  return command;
}

export const DATABASE_URL_FLAG = {
  type: 'string',
  valueName: 'URL',
  description: 'Postgres URL (default DATABASE_URL; none: the embedded store in AITRAIL_DATA_DIR)',
} as const satisfies FlagSpec;

export const ROW_FORMATS = ['table', 'json', 'ndjson', 'csv'] as const;

/** `--format` / `-o` with the formats a command prints. */
export function formatFlag<const C extends readonly string[]>(choices: C) {
  return {
    type: 'string',
    short: 'o',
    valueName: 'FORMAT',
    choices,
    default: choices[0],
    description: `output format: ${choices.join(', ')}`,
  } as const satisfies FlagSpec;
}

export const READER_FLAG = {
  type: 'string',
  valueName: 'WHO',
  description:
    'who is reading, recorded in the audit.read row (default AITRAIL_READER, else the OS user)',
} as const satisfies FlagSpec;
