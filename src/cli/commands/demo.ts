import { parseArgs } from 'node:util';
import { AI_AUDIT_ACTIONS } from '../../actions.js';
import { runSupportDeskScenario } from '../../demo/support-desk.js';
import { queryAuditLogs } from '../../store/queries.js';
import { verifyAuditChains } from '../../store/verify.js';
import { createCheckpointSigner } from '../../store/writer/checkpoint-signer.js';
import { initAuditTelemetry } from '../../telemetry/init.js';
import { formatEntries, withTraceUrl } from '../format.js';
import { openCliStore } from '../open-cli-store.js';
import { CheckFailed, UsageError } from '../usage-error.js';

export const DEMO_USAGE = 'aitrail demo [--database-url URL]';

/** Plays the support-desk scenario through the real pipeline, then shows what was recorded. */
export async function demoCommand(
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { 'database-url': { type: 'string' } },
  });
  const databaseUrl = values['database-url'] ?? (process.env.DATABASE_URL || undefined);
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new UsageError(
      `--database-url must be a postgres:// URL, got "${databaseUrl.slice(0, 40)}"`,
    );
  }
  const startedAt = new Date(Date.now() - 1_000);
  const serviceName = process.env.OTEL_SERVICE_NAME || 'aitrail-demo';
  const telemetry = await initAuditTelemetry({ serviceName, databaseUrl, handleSignals: false });
  err.write(`aitrail: recording the support-desk scenario into ${telemetry.store.location}\n`);
  try {
    await runSupportDeskScenario();
    await telemetry.flush();
    const rows = await queryAuditLogs(telemetry.store, {
      since: startedAt,
      order: 'asc',
      limit: 1000,
    });
    const mine = rows.filter((r) => r.serviceName === serviceName);
    const jaeger = process.env.JAEGER_UI_URL || 'http://localhost:16686';
    out.write(
      `${formatEntries(
        mine.map((r) => withTraceUrl(r, jaeger)),
        'table',
      )}\n\n`,
    );
    const counts = new Map<string, number>();
    for (const row of mine) counts.set(row.action, (counts.get(row.action) ?? 0) + 1);
    out.write('Recorded per action:\n');
    for (const action of Object.values(AI_AUDIT_ACTIONS)) {
      out.write(`  ${action.padEnd(22)} ${String(counts.get(action) ?? 0).padStart(3)}\n`);
    }
    for (const [action, count] of counts) {
      if (!(Object.values(AI_AUDIT_ACTIONS) as string[]).includes(action)) {
        out.write(`  ${action.padEnd(22)} ${String(count).padStart(3)}  (app action)\n`);
      }
    }
    const missing = Object.values(AI_AUDIT_ACTIONS).filter((a) => !counts.has(a));
    out.write(
      missing.length === 0
        ? '\nAll 12 AI actions recorded.\n'
        : `\nMissing: ${missing.join(', ')}\n`,
    );
    if (missing.length > 0) throw new Error(`demo did not record ${missing.join(', ')}`);
  } finally {
    await telemetry.shutdown();
  }
  await verifyAfterDemo(databaseUrl, out);
}

/** The demo ends as an auditor would: checking that every chain and checkpoint holds. */
async function verifyAfterDemo(
  databaseUrl: string | undefined,
  out: NodeJS.WritableStream,
): Promise<void> {
  const key = process.env.AITRAIL_SIGNING_KEY || undefined;
  const store = await openCliStore(databaseUrl);
  try {
    const report = await verifyAuditChains(store, {
      signer: key ? createCheckpointSigner(key) : null,
    });
    const failed = report.chains.filter((c) => c.failures > 0);
    out.write(
      report.ok
        ? `Integrity: ${report.chains.length} hash chain(s), ${report.rowsChecked} row(s) verify (aitrail verify).\n`
        : `Integrity: ${failed.length} chain(s) FAILED verification; run \`aitrail verify\` for details.\n`,
    );
    for (const note of report.notes) out.write(`  note: ${note}\n`);
    if (!report.ok) throw new CheckFailed('verify failed after the demo');
  } finally {
    await store.close();
  }
}
