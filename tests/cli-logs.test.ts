import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../src/store/audit-record.js';
import { openAuditStore } from '../src/store/open-store.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { runCli } from './support/cli.js';
import { makeRecord } from './support/records.js';
import { scratchDir } from './support/stores.js';

/** `aitrail logs` against an embedded store the test fills first. */
describe('aitrail logs', () => {
  const dataDir = scratchDir();
  const env = {
    AITRAIL_DATA_DIR: dataDir,
    DATABASE_URL: '',
    JAEGER_UI_URL: 'http://jaeger.internal:16686/',
  };
  const now = Date.now();
  const records: AuditRecord[] = [];

  beforeAll(async () => {
    const store = await openAuditStore({ dataDir });
    const writer = new AuditWriter({ store, journalDir: null });
    for (let i = 0; i < 30; i++) {
      const record = makeRecord(i, {
        occurredAt: new Date(now - (30 - i) * 60_000).toISOString().replace('Z', '000Z'),
        action: i % 3 === 0 ? 'ai.approval_approved' : 'ai.tool_call',
        actorId: i % 2 === 0 ? 'user_alice' : 'user_bob',
        tenantId: i < 15 ? 'acme' : 'globex',
        conversationId: `conv_${i % 4}`,
        metadata: { note: i === 7 ? 'has, a "quote"\nand a newline' : `row ${i}` },
        ...(i === 3 ? { toolName: 'evil\n\u001b[31mX' } : {}),
      });
      records.push(record);
      writer.enqueue(record);
    }
    // One row from two days ago, outside --since 24h.
    const old = makeRecord(99, {
      occurredAt: new Date(now - 48 * 3_600_000).toISOString().replace('Z', '000Z'),
      actorId: 'user_alice',
    });
    records.push(old);
    writer.enqueue(old);
    await writer.shutdown();
    await store.close();
  });

  async function json(args: string[]) {
    const result = await runCli(['logs', ...args, '--format', 'json'], { env });
    // stdout is the JSON alone; no diagnostics.
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as Array<Record<string, unknown>>;
  }

  it('prints one JSON array of camelCase rows, newest first, each with its trace link', async () => {
    const rows = await json(['--limit', '5']);
    expect(rows).toHaveLength(5);
    const expected = [...records]
      .sort((a, b) => b.occurredAt.localeCompare(a.occurredAt))
      .slice(0, 5);
    expect(rows.map((r) => r.eventId)).toEqual(expected.map((r) => r.eventId));
    expect(Object.keys(rows[0] ?? {})).toEqual(
      expect.arrayContaining([
        'eventId',
        'occurredAt',
        'actorId',
        'action',
        'toolName',
        'metadata',
        'traceId',
        'traceUrl',
      ]),
    );
    expect(rows[0]?.traceUrl).toBe(`http://jaeger.internal:16686/trace/${rows[0]?.traceId}`);
  });

  it('filters by action, actor, tenant and conversation together', async () => {
    const rows = await json([
      '--action',
      'ai.tool_call',
      '--actor',
      'user_bob',
      '--tenant',
      'globex',
      '--conversation',
      'conv_1',
    ]);
    const expected = records.filter(
      (r) =>
        r.action === 'ai.tool_call' &&
        r.actorId === 'user_bob' &&
        r.tenantId === 'globex' &&
        r.conversationId === 'conv_1',
    );
    expect(rows.map((r) => r.eventId).sort()).toEqual(expected.map((r) => r.eventId).sort());
    expect(expected.length).toBeGreaterThan(0);
  });

  it('returns every matching row without a cap, and --limit stops early', async () => {
    const all = await json([]);
    expect(all).toHaveLength(records.length);
    const some = await json(['--limit', '7']);
    expect(some.map((r) => r.eventId)).toEqual(all.slice(0, 7).map((r) => r.eventId));
  });

  it('lists oldest first with --order asc', async () => {
    const rows = await json(['--order', 'asc', '--limit', '3']);
    const expected = [...records].sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
    expect(rows.map((r) => r.eventId)).toEqual(expected.slice(0, 3).map((r) => r.eventId));
  });

  it('filters by trace id', async () => {
    const target = records[11] as AuditRecord;
    const rows = await json(['--trace', target.traceId]);
    expect(rows.map((r) => r.eventId)).toEqual([target.eventId]);
  });

  it('filters by a relative --since and an ISO --until', async () => {
    const recent = await json(['--actor', 'user_alice', '--since', '24h', '--limit', '1000']);
    expect(recent).toHaveLength(15);
    const until = new Date(now - 20 * 60_000).toISOString();
    const early = await json(['--since', '1h', '--until', until, '--limit', '1000']);
    expect(early.map((r) => r.eventId).sort()).toEqual(
      records
        .filter(
          (r) => r.occurredAt > new Date(now - 3_600_000).toISOString() && r.occurredAt <= until,
        )
        .map((r) => r.eventId)
        .sort(),
    );
  });

  it('prints ndjson, one row per line', async () => {
    const result = await runCli(['logs', '--limit', '3', '--format', 'ndjson'], { env });
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty('eventId');
  });

  it('prints csv with a header and quoting that survives commas, quotes and newlines', async () => {
    const target = records[7] as AuditRecord;
    const result = await runCli(['logs', '--trace', target.traceId, '--format', 'csv'], { env });
    expect(result.code).toBe(0);
    const [header, row, ...more] = parseCsv(result.stdout);
    expect(more).toEqual([]);
    expect(header).toEqual(
      expect.arrayContaining([
        'id',
        'occurredAt',
        'recordedAt',
        'eventId',
        'action',
        'traceUrl',
        'metadata',
        'chainId',
        'chainSeq',
        'prevHash',
        'hash',
        'subjectId',
      ]),
    );
    const cell = (name: string) => row?.[(header as string[]).indexOf(name)];
    expect(cell('hash')).toMatch(/^[0-9a-f]{64}$/);
    expect(cell('eventId')).toBe(target.eventId);
    expect(JSON.parse(cell('metadata') as string).note).toBe('has, a "quote"\nand a newline');
  });

  it('prints a table for people, with the trace link on each row', async () => {
    const result = await runCli(['logs', '--limit', '2'], { env });
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^OCCURRED AT \(UTC\)\s+TENANT\s+ACTOR\s+ACTION\s+OUTCOME/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('http://jaeger.internal:16686/trace/');
  });

  it.each([
    [['--limit', 'ten'], /--limit expects a whole decimal number/],
    [['--limit', '0x10'], /--limit expects a whole decimal number, got "0x10"/],
    [['--limit', '0'], /--limit must be from 1/],
    [['--since', '2026-02-30'], /--since "2026-02-30" is not a date: 2026-02 has no day 30/],
    [['--since', '2026-13'], /--since "2026-13" has no month 13/],
    [
      ['--since', '2026-11-27', '--until', '2026-11-01'],
      /--until \(2026-11-01\) is before --since/,
    ],
    [['--order', 'sideways'], /--order must be one of desc, asc/],
    [['-o', 'xml'], /--format must be one of table, json, ndjson, csv/],
    [['--since', 'yesterday'], /--since expects a duration/],
    [['--format', 'xml'], /--format must be one of table, json, ndjson, csv/],
    [['--trace', 'not-a-trace'], /--trace expects a 32-character hex trace id/],
    [['--colour'], /logs: Unknown option '--colour'/],
  ])('exits 2 with a one-line reason on bad usage %j', async (args, message) => {
    const result = await runCli(['logs', ...args], { env });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it('escapes control characters in the table, so a stored value cannot forge a row or drive the terminal', async () => {
    const target = records[3] as AuditRecord;
    const result = await runCli(['logs', '--trace', target.traceId], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('\u001b');
    expect(result.stdout).toContain('evil\\u000a\\u001b[31mX');
    expect(result.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('exits 2 with a one-line reason when there is no store to read', async () => {
    const result = await runCli(['logs'], { env: { ...env, AITRAIL_DATA_DIR: scratchDir() } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^aitrail: no audit store at .*: set DATABASE_URL/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 with a one-line reason when no command is given', async () => {
    const result = await runCli([], { env });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^aitrail: missing command/);
  });

  it('exits 2 for an unknown command', async () => {
    const result = await runCli(['frobnicate'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command "frobnicate"/);
  });
});

/** RFC 4180: fields separated by commas, quoted fields with doubled quotes, CRLF or LF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}
