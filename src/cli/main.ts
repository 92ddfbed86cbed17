#!/usr/bin/env node
import { VERSION } from '../version.js';
import type { CliCommand, Flags } from './command.js';
import { command as approvals } from './commands/approvals.js';
import { createCompletionCommand } from './commands/completion.js';
import { command as demo } from './commands/demo.js';
import { command as erase } from './commands/erase.js';
import { command as evidence } from './commands/evidence.js';
import { command as explain } from './commands/explain.js';
import { command as grantReader } from './commands/grant-reader.js';
import { command as hold } from './commands/hold.js';
import { command as logs } from './commands/logs.js';
import { command as migrate } from './commands/migrate.js';
import { command as prove } from './commands/prove.js';
import { command as retention } from './commands/retention.js';
import { command as revokeReader } from './commands/revoke-reader.js';
import { command as stats } from './commands/stats.js';
import { command as subject } from './commands/subject.js';
import { command as verify } from './commands/verify.js';
import { command as verifyProof } from './commands/verify-proof.js';
import { parseCommandArgs, renderCommandHelp } from './parse-command.js';
import { CheckFailed, UsageError } from './usage-error.js';

/**
 * The command table. To add a command: write `src/cli/commands/<name>.ts` exporting
 * `export const command = defineCommand({ name, summary, flags, run })` (see ./command.ts),
 * then add one import above and one entry here.
 */
const COMMANDS: readonly CliCommand<Flags>[] = [
  migrate,
  demo,
  logs,
  verify,
  explain,
  approvals,
  stats,
  subject,
  evidence,
  erase,
  hold,
  retention,
  prove,
  verifyProof,
  grantReader,
  revokeReader,
];

const ALL: readonly CliCommand<Flags>[] = [...COMMANDS, createCompletionCommand(() => ALL)];

function globalHelp(): string {
  const width = Math.max(...ALL.map((c) => c.name.length)) + 2;
  return `aitrail ${VERSION}: audit trail for AI features

usage: aitrail <command> [flags]      aitrail <command> --help for its flags

commands:
${ALL.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}

--database-url (or DATABASE_URL) selects Postgres; otherwise the embedded store under
AITRAIL_DATA_DIR (default ./.aitrail). -o is short for --format.
Exit codes: 0 ok, 1 a check failed, 2 bad usage or configuration.`;
}

/** Runs the CLI and returns its exit code. */
async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const names = ALL.map((c) => c.name).join(', ');
  if (name === undefined) {
    process.stderr.write(`aitrail: missing command (${names}); aitrail --help for usage\n`);
    return 2;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = ALL.find((c) => c.name === rest[0]);
    process.stdout.write(`${topic ? renderCommandHelp(topic) : globalHelp()}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  try {
    const command = ALL.find((c) => c.name === name);
    if (!command)
      throw new UsageError(`unknown command "${name.slice(0, 40)}" (commands: ${names})`);
    const parsed = parseCommandArgs(command, rest);
    if (parsed.help) {
      process.stdout.write(`${renderCommandHelp(command)}\n`);
      return 0;
    }
    await command.run({
      flags: parsed.flags,
      positionals: parsed.positionals,
      io: { out: process.stdout, err: process.stderr, env: process.env },
    });
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`aitrail: ${oneLine(error.message)}\n`);
      return 2;
    }
    if (error instanceof CheckFailed) {
      process.stderr.write(`aitrail: ${oneLine(error.message)}\n`);
      return 1;
    }
    process.stderr.write(`aitrail: ${describeFailure(error)}\n`);
    return 1;
  }
}

function oneLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}

/**
 * The first line of the error and of each cause under it: drizzle wraps the driver's error
 * ("password authentication failed", "ECONNREFUSED") in a "Failed query: …" error.
 */
function describeFailure(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const message = e instanceof Error ? e.message : String(e);
    const code = (e as { code?: unknown }).code;
    const line = oneLine(message.startsWith('Failed query:') ? 'query failed' : message);
    if (line)
      parts.push(typeof code === 'string' && !line.includes(code) ? `${line} (${code})` : line);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(': ') || 'failed';
}

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;
