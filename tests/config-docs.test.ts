/**
 * The configuration table in docs/configuration.md and the option validator of
 * initAuditTelemetry describe the same options: every documented option is accepted, every
 * accepted option is documented.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkInitOptions, DELIVERY_KEYS, OPTION_KEYS } from '../src/telemetry/init-options.js';

function documentedOptions(): string[] {
  const page = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
  const heading = page.indexOf('## `initAuditTelemetry(options)`');
  const table = page.slice(heading, page.indexOf('\n## ', heading + 1));
  return [...table.matchAll(/^\| `([A-Za-z.]+)` \|/gm)].map((match) => match[1] as string);
}

function acceptedOptions(): string[] {
  return [...OPTION_KEYS, ...DELIVERY_KEYS.map((key) => `delivery.${key}`)];
}

function optionsWith(path: string): Record<string, unknown> {
  const [key, sub] = path.split('.') as [string, string | undefined];
  return sub === undefined ? { [key]: undefined } : { [key]: { [sub]: undefined } };
}

describe('docs/configuration.md', () => {
  it('documents options in its table', () => {
    expect(documentedOptions().length).toBeGreaterThan(10);
  });

  it('documents only options that initAuditTelemetry accepts', () => {
    for (const option of documentedOptions()) {
      expect(() => checkInitOptions(optionsWith(option)), option).not.toThrow();
    }
  });

  it('documents every option that initAuditTelemetry accepts', () => {
    expect(documentedOptions().sort()).toEqual(acceptedOptions().sort());
  });

  it('the validator rejects an option the table does not list', () => {
    expect(() => checkInitOptions({ writeTimeout: 5 })).toThrow(/unknown option "writeTimeout"/);
    expect(() => checkInitOptions({ delivery: { timeoutMs: 5 } })).toThrow(
      /unknown option "delivery.timeoutMs"/,
    );
  });

  it('accepts delivery.writeTimeoutMs, which the table documents', () => {
    expect(() => checkInitOptions({ delivery: { writeTimeoutMs: 2_000 } })).not.toThrow();
  });
});
