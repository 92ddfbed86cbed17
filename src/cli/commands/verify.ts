import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { ChainReport, VerifiedHeads, VerifyReport } from '../../store/verify/index.js';
import {
  parseVerifiedHeads,
  VerifyScopeError,
  verifyAuditChains,
} from '../../store/verify/index.js';
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
    "Signatures are checked with AITRAIL_SIGNING_KEY (HMAC secret, or Ed25519 private/public key PEM). Every failure is listed (kind, chain, sequence, event id); rows newer than their chain's last tree head are reported as unanchored. With --state FILE, each chain goes on from the tree head the last run verified (and saved in FILE): only newer rows are read; a run without --state re-reads everything.",
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
    state: {
      type: 'string',
      valueName: 'FILE',
      description:
        'incremental: go on from the tree heads verified before (read from FILE when it exists), then save the newly verified heads there; keep FILE outside the database',
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
    state?: string;
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
  const stateFile = values.state;
  if (stateFile !== undefined && since !== undefined)
    throw new UsageError(
      '--state and --since exclude each other: --since checks a window, not the whole chain',
    );
  const verified = stateFile === undefined ? null : readState(stateFile);
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
      verified,
      onProgress: progress?.update,
    });
    progress?.done();
  } catch (error) {
    if (error instanceof VerifyScopeError) throw new UsageError(error.message);
    throw error;
  } finally {
    await store.close();
  }
  if (stateFile !== undefined && report.verified) writeState(stateFile, report.verified);
  // The heads to resume from go to the state file, not into the printed report.
  const { verified: _, ...printed } = report;
  out.write(`${format === 'json' ? JSON.stringify(printed, null, 2) : renderTable(report)}\n`);
  if (!report.ok) {
    const failed = report.chains.filter((c) => c.failures > 0).length;
    throw new CheckFailed(
      `verify failed: ${report.failureCount} failure(s) in ${failed} of ${report.chains.length} chain(s)`,
    );
  }
}

/** The verified heads of the last run, or null the first time (no file yet). */
function readState(file: string): VerifiedHeads | null {
  if (!existsSync(dirname(file)))
    throw new UsageError(`--state: directory ${dirname(file)} does not exist`);
  if (!existsSync(file)) return null;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--state: cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return parseVerifiedHeads(JSON.parse(text), `--state ${file}`);
  } catch (error) {
    throw new UsageError(
      error instanceof TypeError
        ? error.message
        : `--state ${file}: not JSON (${(error as Error).message})`,
    );
  }
}

/** Replaces the state file whole (write aside, fsync, rename): a crash leaves the old one or the new one. */
function writeState(file: string, verified: VerifiedHeads): void {
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o644);
  try {
    const bytes = Buffer.from(`${JSON.stringify(verified, null, 2)}\n`);
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  try {
    const directory = openSync(dirname(file), 'r');
    try {
      fsyncSync(directory);
    } finally {
      closeSync(directory);
    }
  } catch {
    // Not every file system lets a directory be opened for fsync; the rename stands.
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
      : `ok${chain.legacy ? ' (legacy chain)' : ''}${chain.resumedFrom !== null ? ` (on from the head verified at size ${chain.resumedFrom})` : ''}${chain.degradedRows ? ` (${chain.degradedRows} degraded row(s) verified)` : ''}${chain.unanchored.rows ? ` (${chain.unanchored.rows} unanchored row(s))` : ''}`;
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
