import { parseArgs } from 'node:util';
import type { ChainReport, VerifyReport } from '../../store/verify/index.js';
import { VerifyScopeError, verifyAuditChains } from '../../store/verify/index.js';
import { createCheckpointSigner } from '../../store/writer/checkpoint-signer.js';
import { printable } from '../format.js';
import { openCliStore } from '../open-cli-store.js';
import { parseTimeBound } from '../time-bound.js';
import { CheckFailed, UsageError } from '../usage-error.js';

export const VERIFY_USAGE =
  'aitrail verify [--chain ID] [--since 24h|ISO] [--format table|json] [--database-url URL]';

const FORMATS = ['table', 'json'] as const;

/**
 * Checks every hash chain and checkpoint; exit code 1 when anything does not hold. Signatures
 * are checked with `AITRAIL_SIGNING_KEY` (HMAC secret, or Ed25519 private/public key PEM).
 */
export async function verifyCommand(
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream & { isTTY?: boolean },
): Promise<void> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      chain: { type: 'string' },
      since: { type: 'string' },
      format: { type: 'string' },
      'database-url': { type: 'string' },
    },
  });
  const format = (values.format ?? 'table') as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
  }
  const since = values.since === undefined ? undefined : parseTimeBound('--since', values.since);
  const key = process.env.AITRAIL_SIGNING_KEY || undefined;
  const signer = key === undefined ? null : createCheckpointSigner(key);
  const store = await openCliStore(values['database-url']);
  let report: VerifyReport;
  try {
    const progress = err.isTTY ? progressBar(err) : undefined;
    report = await verifyAuditChains(store, {
      chainId: values.chain,
      since,
      signer,
      onProgress: progress?.update,
    });
    progress?.done();
  } catch (error) {
    if (error instanceof VerifyScopeError) throw new UsageError(error.message);
    throw error;
  } finally {
    await store.close();
  }
  out.write(`${format === 'json' ? JSON.stringify(report, null, 2) : renderTable(report)}\n`);
  if (!report.ok) {
    const failed = report.chains.filter((c) => c.failures > 0).length;
    throw new CheckFailed(
      `verify failed: ${failed} of ${report.chains.length} chain(s) do not hold`,
    );
  }
}

function checkpointSummary(chain: ChainReport): string {
  const { total, signed, verified } = chain.checkpoints;
  if (total === 0) return 'none';
  if (signed === 0) return `${total} unsigned`;
  return `${total} (${verified} verified)`;
}

function renderTable(report: VerifyReport): string {
  const lines = [
    `${'CHAIN'.padEnd(38)}${'ROWS'.padStart(10)}  ${'SEQ'.padEnd(16)}${'CHECKPOINTS'.padEnd(20)}RESULT`,
  ];
  for (const chain of report.chains) {
    const range = chain.firstSeq === null ? '-' : `${chain.firstSeq}..${chain.lastSeq}`;
    const failure = chain.firstFailure;
    const result = failure
      ? printable(
          `FAILED ${failure.kind}${failure.eventId ? ` at ${failure.eventId}` : ''}: ${failure.detail}`,
        )
      : `ok${chain.degradedRows ? ` (${chain.degradedRows} degraded row(s) verified)` : ''}`;
    lines.push(
      `${printable(chain.chainId).padEnd(38)}${String(chain.rowsChecked).padStart(10)}  ${range.padEnd(16)}${checkpointSummary(chain).padEnd(20)}${result}`,
    );
    for (const p of chain.pruned ?? []) {
      lines.push(
        `  pruned seq ${p.firstSeq}..${p.lastSeq} (${p.rows} row(s), ${p.rangeFrom.slice(0, 7)}) by prune record ${p.pruneId}${p.signatureValid === null ? ' (signature not checked)' : p.signatureValid ? ' (signed)' : ' (SIGNATURE INVALID)'}`,
      );
    }
  }
  lines.push('');
  lines.push(
    report.ok
      ? `All ${report.chains.length} chain(s) verify: ${report.rowsChecked} row(s) checked.`
      : `Verification FAILED: ${report.rowsChecked} row(s) checked.`,
  );
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}

function progressBar(stream: NodeJS.WritableStream) {
  let last = 0;
  return {
    update(checked: number, total: number) {
      const now = Date.now();
      if (now - last < 100 || total < 50_000) return;
      last = now;
      const share = total === 0 ? 1 : Math.min(1, checked / total);
      const filled = Math.round(share * 30);
      stream.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${Math.round(share * 100)}% ${checked}/${total} rows`,
      );
    },
    done() {
      if (last > 0) stream.write('\r\x1b[K');
    },
  };
}
