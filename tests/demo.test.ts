import { describe, expect, it } from 'vitest';
import { AI_AUDIT_ACTIONS } from '../src/actions.js';
import { runCli } from './support/cli.js';
import { scratchDir } from './support/stores.js';

describe('aitrail demo', () => {
  it('records every AI action into the embedded store, shows them redacted, and verifies the chains', async () => {
    const env = { AITRAIL_DATA_DIR: scratchDir(), DATABASE_URL: '' };
    const result = await runCli(['demo'], { env });
    expect(result.code).toBe(0);
    for (const action of Object.values(AI_AUDIT_ACTIONS)) {
      expect(result.stdout).toMatch(new RegExp(`^ {2}${action.replace('.', '\\.')}\\s+[1-9]`, 'm'));
    }
    expect(result.stdout).toContain(
      `All ${Object.values(AI_AUDIT_ACTIONS).length} AI actions recorded.`,
    );
    expect(result.stdout).toMatch(/Integrity: 1 hash chain\(s\), \d+ row\(s\) verify/);

    const logs = await runCli(['logs', '--limit', '1000', '--format', 'json'], { env });
    const stored = logs.stdout;
    expect(JSON.parse(stored).length).toBeGreaterThanOrEqual(20);
    // The scenario plants an e-mail address, a card number and an API key; rows keep none of them.
    expect(stored).toContain('[REDACTED:email]');
    expect(stored).not.toContain('alice@example.com');
    expect(stored).not.toContain('4111 1111 1111 1111');
    expect(stored).not.toContain('sk-proj-demo');
  });
});
