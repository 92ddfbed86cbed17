import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../src/store/audit-record.js';
import type { AuditStore } from '../src/store/audit-store.js';
import { openAuditStore } from '../src/store/open-store.js';
import { exportSubject } from '../src/store/queries/subject-export.js';
import { queryAuditLogs } from '../src/store/queries.js';
import { AuditWriter } from '../src/store/writer/audit-writer.js';
import { runCli } from './support/cli.js';
import { testDatabaseUrl } from './support/postgres.js';
import { makeRecord } from './support/records.js';

const DAY = 86_400_000;
const Q4 = Date.UTC(2026, 9, 1);

function at(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000Z');
}

/** Chromium from Debian's package; a missing browser fails the test, never skips it. */
function chromiumPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    throw new Error(
      'chromium is required to render the evidence report: apt-get install -y chromium',
    );
  }
}

function chromium(args: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), 'aitrail-chromium-'));
  try {
    return execFileSync(
      chromiumPath(),
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { encoding: 'utf8', timeout: 90_000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Distinct byte values in a PNG's decompressed image data: a blank page has very few. */
function pngVariety(file: string): number {
  const png = readFileSync(file);
  const chunks: Buffer[] = [];
  for (let offset = 8; offset < png.length; ) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    if (type === 'IDAT') chunks.push(png.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  return new Set(inflateSync(Buffer.concat(chunks))).size;
}

describe('subject export and evidence report', () => {
  let databaseUrl: string;
  let store: AuditStore;
  const written: AuditRecord[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'aitrail-evidence-'));

  beforeAll(async () => {
    databaseUrl = await testDatabaseUrl();
    store = await openAuditStore({ databaseUrl });
    const writer = new AuditWriter({ store, journalDir: null, serviceName: 'reports' });
    const add = (r: AuditRecord) => {
      written.push(r);
      writer.enqueue(r);
    };
    for (let i = 0; i < 120; i++) {
      add(
        makeRecord(i, {
          occurredAt: at(Q4 + i * 0.6 * DAY),
          tenantId: ['acme', 'globex'][i % 2] as string,
          actorId: i % 3 === 0 ? 'alice' : `user_${i % 4}`,
          action: ['ai.tool_call', 'ai.chat_message', 'ai.rate_limited'][i % 3] as string,
          outcome: i % 3 === 2 ? 'denied' : 'success',
          metadata: i === 9 ? { content: '[ERASED]', source: 'test' } : { source: 'test' },
        }),
      );
    }
    // alice as the resource of someone else's action.
    add(
      makeRecord(500, {
        occurredAt: at(Q4 + 5 * DAY),
        actorType: 'agent',
        actorId: 'support-bot',
        resourceType: 'user',
        resourceId: 'alice',
        action: 'user.profile_viewed',
      }),
    );
    await writer.shutdown();
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('exports every row about a subject, marks erased fields, and lists the chain heads', async () => {
    const result = await exportSubject(store, { subjectId: 'alice', reader: 'user:dpo' });
    const expected = written.filter((r) => r.actorId === 'alice' || r.resourceId === 'alice');
    expect(result.rows.map((r) => r.eventId).sort()).toEqual(expected.map((r) => r.eventId).sort());
    expect(result.manifest.counts).toMatchObject({
      rows: expected.length,
      asResource: 1,
      asActor: expected.length - 1,
      rowsWithErasedFields: 1,
    });
    expect(result.rows.find((r) => r.erasedFields.length > 0)?.erasedFields).toEqual([
      'metadata.content',
    ]);
    expect(result.manifest.period.first).toBe(expected[0]?.occurredAt);
    expect(result.proof.rows).toHaveLength(expected.length);
    const heads = result.proof.chainHeads;
    expect(heads).toHaveLength(1);
    expect(heads[0]).toMatchObject({ chainId: result.rows[0]?.chainId, final: true });
    expect((heads[0] as { headHash: string }).headHash).toMatch(/^[0-9a-f]{64}$/);
    const [read] = await queryAuditLogs(store, { action: 'audit.read', actorId: 'user:dpo' });
    // alice is the read's data subject (in the vault, erasable), not a plain-text resource id.
    expect(read).toMatchObject({
      resourceType: 'data_subject',
      subjectId: 'alice',
      resourceId: null,
    });
    expect(read?.metadata).toMatchObject({ query: 'subject-export', rows: expected.length });
  });

  it('aitrail subject export prints the document, including who already read about the subject', async () => {
    const result = await runCli(['subject', 'export', '--subject', 'alice', '-o', 'json'], {
      env: { DATABASE_URL: databaseUrl },
    });
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as {
      manifest: { counts: { rows: number; byAction: Record<string, number> } };
    };
    const about = written.filter((r) => r.actorId === 'alice' || r.resourceId === 'alice');
    // The earlier export's audit.read row names alice as its subject: a recipient of her data.
    expect(doc.manifest.counts.rows).toBe(about.length + 1);
    expect(doc.manifest.counts.byAction['audit.read']).toBe(1);
    const missing = await runCli(['subject', 'export'], { env: { DATABASE_URL: databaseUrl } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('aitrail: subject export needs --subject ID\n');
  });

  it('writes a self-contained evidence report whose charts Chromium draws', async () => {
    const file = join(scratch, 'evidence.html');
    const result = await runCli(['evidence', '--period', '2026-Q4', '--out', file], {
      env: { DATABASE_URL: databaseUrl },
    });
    expect(result.stderr).toContain('evidence for 2026-Q4 written to');
    expect(result.code).toBe(0);
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain('all chains verify');
    expect(html).toContain(`${written.length} audit records`);
    const dom = chromium(['--dump-dom', `file://${file}`]);
    const rects = [
      ...dom.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="([\d.]+)"/g),
    ];
    expect(rects.length).toBeGreaterThan(20);
    expect(rects.every(([, w, h]) => Number(w) > 0 && Number(h) > 0)).toBe(true);
    expect(dom).toContain('Records per week and action');
    const png = join(scratch, 'evidence.png');
    chromium([`--screenshot=${png}`, '--window-size=1200,1600', `file://${file}`]);
    expect(pngVariety(png)).toBeGreaterThan(32);
  }, 240_000);

  it('refuses a period it cannot read', async () => {
    const result = await runCli(
      ['evidence', '--period', '2026-Q5', '--out', join(scratch, 'x.html')],
      {
        env: { DATABASE_URL: databaseUrl },
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--period expects 2026, 2026-Q4/);
  });
});
