import { AI_AUDIT_ACTIONS } from '../../actions.js';
import { runSupportDeskScenario } from '../../demo/support-desk.js';
import type { AuditStore } from '../../store/audit-store.js';
import { queryAuditLogs } from '../../store/queries.js';
import { verifyAuditChains } from '../../store/verify/index.js';
import { initAuditTelemetry } from '../../telemetry/init.js';
import { type CliCommand, DATABASE_URL_FLAG, defineCommand } from '../command.js';
import { formatEntries, traceUiUrl, withTraceUrl } from '../format.js';
import { openCliStore, resolveDatabaseUrl } from '../open-cli-store.js';
import { signerFromEnv } from '../signing-key.js';
import { CheckFailed } from '../usage-error.js';

const AI_ACTIONS: readonly string[] = Object.values(AI_AUDIT_ACTIONS);

/**
 * Plays the support-desk scenario through the real pipeline, then reads back what was recorded
 * and verifies the hash chains. Reading uses `AITRAIL_READ_DATABASE_URL` when set, so the demo
 * can write as the insert-only role and read as an auditor.
 */
export const command: CliCommand = defineCommand({
  name: 'demo',
  summary: 'Record the support-desk scenario through the real pipeline, print it and verify it',
  details: 'AITRAIL_READ_DATABASE_URL, when set, is used to read back (e.g. as an auditor role).',
  flags: { 'database-url': DATABASE_URL_FLAG },
  run: ({ flags, io }) => demo(flags['database-url'], io.out, io.err),
});

async function demo(
  databaseUrlFlag: string | undefined,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<void> {
  const databaseUrl = resolveDatabaseUrl(databaseUrlFlag);
  const signer = signerFromEnv(process.env);
  const startedAt = new Date(Date.now() - 1_000);
  const serviceName = process.env.OTEL_SERVICE_NAME || 'aitrail-demo';
  const telemetry = await initAuditTelemetry({ serviceName, databaseUrl, handleSignals: false });
  err.write(`aitrail: recording the support-desk scenario into ${telemetry.store.location}\n`);
  const chainId = telemetry.stats().chainId;
  try {
    await runSupportDeskScenario();
  } finally {
    await telemetry.shutdown();
  }
  const reader = await openCliStore(process.env.AITRAIL_READ_DATABASE_URL || databaseUrl);
  try {
    await printRecorded(reader, chainId, startedAt, out);
    await verifyAfterDemo(reader, out, signer);
  } finally {
    await reader.close();
  }
}

/** This run's rows: the ones in the chain its writer sealed (earlier demo runs used others). */
async function printRecorded(
  store: AuditStore,
  chainId: string,
  since: Date,
  out: NodeJS.WritableStream,
): Promise<void> {
  const rows = (await queryAuditLogs(store, { since, order: 'asc', limit: 1000 })).filter(
    (r) => r.chainId === chainId,
  );
  const jaeger = traceUiUrl();
  out.write(
    `${formatEntries(
      rows.map((r) => withTraceUrl(r, jaeger)),
      'table',
    )}\n\n`,
  );
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.action, (counts.get(row.action) ?? 0) + 1);
  out.write('Recorded per action:\n');
  for (const action of AI_ACTIONS)
    out.write(`  ${action.padEnd(22)} ${String(counts.get(action) ?? 0).padStart(3)}\n`);
  for (const [action, count] of counts) {
    if (!AI_ACTIONS.includes(action))
      out.write(`  ${action.padEnd(22)} ${String(count).padStart(3)}  (app action)\n`);
  }
  const missing = AI_ACTIONS.filter((a) => !counts.has(a));
  if (missing.length > 0) throw new CheckFailed(`the demo did not record ${missing.join(', ')}`);
  out.write(`\nAll ${AI_ACTIONS.length} AI actions recorded.\n`);
}

/** The demo ends as an auditor would: checking that every chain and checkpoint holds. */
async function verifyAfterDemo(
  store: AuditStore,
  out: NodeJS.WritableStream,
  signer: ReturnType<typeof signerFromEnv>,
): Promise<void> {
  const report = await verifyAuditChains(store, { signer });
  const failed = report.chains.filter((c) => c.failures > 0);
  out.write(
    report.ok
      ? `Integrity: ${report.chains.length} hash chain(s), ${report.rowsChecked} row(s) verify (aitrail verify).\n`
      : `Integrity: ${failed.length} chain(s) FAILED verification; run \`aitrail verify\` for details.\n`,
  );
  for (const note of report.notes) out.write(`  note: ${note}\n`);
  if (!report.ok) throw new CheckFailed('verify failed after the demo');
}
