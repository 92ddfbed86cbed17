#!/usr/bin/env node
import { VERSION } from '../version.js';
import { DEMO_USAGE, demoCommand } from './commands/demo.js';
import { ERASE_USAGE, eraseCommand } from './commands/erase.js';
import { HOLD_USAGE, holdCommand } from './commands/hold.js';
import { LOGS_USAGE, logsCommand } from './commands/logs.js';
import { MIGRATE_USAGE, migrateCommand } from './commands/migrate.js';
import { RETENTION_USAGE, retentionCommand } from './commands/retention.js';
import { VERIFY_USAGE, verifyCommand } from './commands/verify.js';
import { UsageError } from './usage-error.js';

const USAGE = `aitrail ${VERSION}: audit trail for AI features

usage:
  ${MIGRATE_USAGE}
  ${DEMO_USAGE}
  ${LOGS_USAGE}
  ${VERIFY_USAGE}
  ${ERASE_USAGE}
  ${HOLD_USAGE}
  ${RETENTION_USAGE}

--database-url (or DATABASE_URL) selects Postgres; otherwise the embedded store under
AITRAIL_DATA_DIR (default ./.aitrail). Exit codes: 0 ok, 1 a check failed, 2 bad usage.`;

type Command = (args: string[]) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  migrate: (args) => migrateCommand(args, process.stderr),
  demo: (args) => demoCommand(args, process.stdout, process.stderr),
  logs: (args) => logsCommand(args, process.stdout, process.stderr),
  verify: (args) => verifyCommand(args, process.stdout, process.stderr),
  erase: (args) => eraseCommand(args, process.stdout),
  hold: (args) => holdCommand(args, process.stdout),
  retention: (args) => retentionCommand(args, process.stdout),
};

/** Runs the CLI and returns its exit code. */
async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(
      `aitrail: missing command (${Object.keys(COMMANDS).join(', ')}); aitrail --help for usage\n`,
    );
    return 2;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  try {
    if (!command)
      throw new UsageError(
        `unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`,
      );
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    await command(rest);
    return 0;
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      process.stderr.write(`aitrail: ${oneLine((error as Error).message)}\n`);
      return 2;
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

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;
