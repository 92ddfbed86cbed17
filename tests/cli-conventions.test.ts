import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openAuditStore } from '../src/store/open-store.js';
import { runCli } from './support/cli.js';
import { testDatabaseUrl } from './support/postgres.js';

/** What users of gh, kubectl and psql expect of every subcommand. */
describe('CLI conventions', () => {
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const databaseUrl = await testDatabaseUrl();
    const store = await openAuditStore({ databaseUrl });
    await store.close();
    env = { DATABASE_URL: databaseUrl };
  });

  it('prints per-command help describing every declared flag', { timeout: 180_000 }, async () => {
    const result = await runCli(['logs', '--help'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: aitrail logs \[flags\]/);
    for (const flag of [
      '--tool NAME',
      '--approval ID',
      '--subject ID',
      '--order ORDER',
      '-o, --format FORMAT',
      '--limit N',
      '--resource-type TYPE',
      '--service NAME',
    ]) {
      expect(result.stdout).toContain(flag);
    }
    const verify = await runCli(['help', 'verify'], { env });
    expect(verify.stdout).toMatch(/^usage: aitrail verify \[flags\]/);
    expect(verify.stdout).not.toContain('--tool');
  });

  it('lists every command with its summary in the global help', async () => {
    const result = await runCli(['--help'], { env });
    expect(result.code).toBe(0);
    for (const name of [
      'migrate',
      'demo',
      'logs',
      'verify',
      'explain',
      'approvals',
      'stats',
      'subject',
      'evidence',
      'erase',
      'hold',
      'retention',
      'prove',
      'verify-proof',
      'grant-reader',
      'revoke-reader',
      'completion',
    ])
      expect(result.stdout).toMatch(new RegExp(`^  ${name}\\s+\\S`, 'm'));
  });

  it('exits 2 with one line when AITRAIL_SIGNING_KEY is too short to use', async () => {
    const result = await runCli(['verify'], { env: { ...env, AITRAIL_SIGNING_KEY: 'short' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'aitrail: AITRAIL_SIGNING_KEY: an HMAC secret must be at least 16 characters long\n',
    );
  });

  it('prints help for a command with a subcommand, naming its choices', async () => {
    const result = await runCli(['hold', '--help'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: aitrail hold ACTION \[HOLD_ID\] \[flags\]/);
    expect(result.stdout).toMatch(/^ {2}ACTION\s+add, remove or list$/m);
    for (const flag of ['--tenant T', '--subject ID', '--reason TEXT', '--all', '-o, --format'])
      expect(result.stdout).toContain(flag);
    const bad = await runCli(['retention', 'prune'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'aitrail: retention: ACTION must be one of apply, set, list, got "prune"\n',
    );
  });

  it('exits 2 for an unexpected positional argument', async () => {
    const result = await runCli(['logs', 'stray'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('aitrail: logs: unexpected argument "stray"\n');
  });

  it('generates a bash completion that completes commands, flags and flag values', async () => {
    const script = (await runCli(['completion', 'bash'], { env })).stdout;
    const dir = mkdtempSync(join(tmpdir(), 'aitrail-completion-'));
    const file = join(dir, 'aitrail.bash');
    writeFileSync(file, script);
    const complete = (...words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _aitrail; printf '%s\\n' "\${COMPREPLY[@]}"`,
          'bash',
          file,
          ...words,
        ],
        { encoding: 'utf8' },
      )
        .trim()
        .split('\n');
    expect(complete('aitrail', 'lo')).toEqual(['logs']);
    expect(complete('aitrail', 'logs', '--ap')).toEqual(['--approval']);
    expect(complete('aitrail', 'logs', '-o', 'n')).toEqual(['ndjson']);
    expect(complete('aitrail', 'completion', 'z')).toEqual(['zsh']);
    expect(complete('aitrail', 'hold', '')).toEqual(['add', 'remove', 'list']);
    expect(complete('aitrail', 'retention', 'apply', '--d')).toEqual([
      '--dry-run',
      '--database-url',
    ]);
  });

  it.each([
    ['zsh', /^#compdef aitrail/, /'--approval\[only rows of this approval id\]:ID:_files'/],
    ['fish', /^# aitrail fish completion/, /-l format -s o -r -a 'table json ndjson csv'/],
  ])('generates a %s completion from the same declaration', async (shell, head, line) => {
    const result = await runCli(['completion', shell], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(head);
    expect(result.stdout).toMatch(line);
  });

  it('exits 2 for a shell it cannot complete', async () => {
    const result = await runCli(['completion', 'tcsh'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/SHELL must be one of bash, zsh, fish/);
  });
});
