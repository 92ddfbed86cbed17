import { existsSync } from 'node:fs';
import type { ChainReport, VerifyReport } from '../../store/verify/index.js';
import { VerifyScopeError, verifyAuditChains } from '../../store/verify/index.js';
import { type CliCommand, DATABASE_URL_FLAG, defineCommand, formatFlag } from '../command.js';
import { printable } from '../format.js';
import { openCliStore } from '../open-cli-store.js';
import { signerFromEnv } from '../signing-key.js';
import { parseTimeBound } from '../time-bound.js';
import { CheckFailed, UsageError } from '../usage-error.js';

/**
 * Checks every hash chain, tree head and checkpoint (and the witness, when given); exit code 1
 * when anything does not hold. Signatures are checked with `AITRAIL_SIGNING_KEY` (HMAC secret,
 * or Ed25519 private/public key PEM).
 */
export const command: CliCommand = defineCommand({
  name: 'verify',
  summary: 'Check every hash chain, tree head and checkpoint (exit 1 when anything does not hold)',
  details:
    "Signatures are checked with AITRAIL_SIGNING_KEY (HMAC secret, or Ed25519 private/public key PEM). Every failure is listed (kind, chain, sequence, event id); rows newer than their chain's last tree head are reported as unanchored.",
  flags: {
    witness: {
      type: 'string',
      valueName: 'DIR',
      description:
        'check the database against the tree heads published there (default AITRAIL_WITNESS_DIR)',
    },
    'max-unanchored-age': {
      type: 'string',
      valueName: 'DURATION',
      description:
        "fail when a row newer than its chain's last tree head is older than this (90s, 10m, 1h)",
    },
    chain: { type: 'string', valueName: 'ID', description: 'verify one chain only' },
    since: {
      type: 'string',
      valueName: '24h|DATE|ISO',
      description: 'verify chains with rows since this time',
    },
    format: formatFlag(['table', 'json'] as const),
    'database-url': DATABASE_URL_FLAG,
  },
  run: ({ flags, io }) => verify(flags, io.out, io.err),
});

async function verify(
  values: {
    chain?: string;
    since?: string;
    witness?: string;
    'max-unanchored-age'?: string;
    format?: string;
    'database-url'?: string;
  },
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream & { isTTY?: boolean },
): Promise<void> {
  const format = values.format ?? 'table';
  const since =
    values.since === undefined ? undefined : parseTimeBound('--since', values.since).start;
  const maxAge = values['max-unanchored-age'];
  const maxUnanchoredAgeMs =
    maxAge === undefined ? null : parseDuration('--max-unanchored-age', maxAge);
  const witnessDir = values.witness ?? (process.env.AITRAIL_WITNESS_DIR || null);
  if (witnessDir !== null && !existsSync(witnessDir))
    throw new UsageError(`--witness: directory ${witnessDir} does not exist`);
  const signer = signerFromEnv(process.env);
  const store = await openCliStore(values['database-url']);
  let report: VerifyReport;
  try {
    const progress = err.isTTY ? progressBar(err) : undefined;
    report = await verifyAuditChains(store, {
      chainId: values.chain,
      since,
      signer,
      witnessDir,
      maxUnanchoredAgeMs,
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
      `verify failed: ${report.failureCount} failure(s) in ${failed} of ${report.chains.length} chain(s)`,
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
          `FAILED ${failure.kind}${failure.eventId ? ` at ${failure.eventId}` : ''}: ${failure.detail}${chain.failures > 1 ? ` (and ${chain.failures - 1} more below)` : ''}`,
        )
      : `ok${chain.legacy ? ' (legacy chain)' : ''}${chain.degradedRows ? ` (${chain.degradedRows} degraded row(s) verified)` : ''}${chain.unanchored.rows ? ` (${chain.unanchored.rows} unanchored row(s))` : ''}`;
    lines.push(
      `${printable(chain.chainId).padEnd(38)}${String(chain.rowsChecked).padStart(10)}  ${range.padEnd(16)}${checkpointSummary(chain).padEnd(20)}${result}`,
    );
    for (const p of chain.pruned ?? []) {
      lines.push(
        `  pruned seq ${p.firstSeq}..${p.lastSeq} (${p.rows} row(s), ${p.rangeFrom.slice(0, 7)}) by prune record ${p.pruneId}${p.signatureValid === null ? ' (signature not checked)' : p.signatureValid ? ' (signed)' : ' (SIGNATURE INVALID)'}`,
      );
    }
  }
  if (report.failures.length > 0) {
    lines.push('');
    lines.push('FAILURES (kind, chain, seq, event id: detail)');
    for (const f of report.failures) {
      lines.push(
        printable(
          `  ${f.kind}  ${f.chainId}  seq ${f.chainSeq ?? '-'}  ${f.eventId ?? '-'}: ${f.detail}`,
        ),
      );
    }
    if (report.failureCount > report.failures.length)
      lines.push(`  … and ${report.failureCount - report.failures.length} more`);
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

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** `90s`, `10m`, `1h`, `0`. */
function parseDuration(option: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match || (match[2] === undefined && Number(match[1]) !== 0))
    throw new UsageError(`${option} expects a duration like 90s, 10m, 1h, got "${value}"`);
  return Number(match[1]) * (DURATION_UNITS[match[2] ?? 'ms'] as number);
}
