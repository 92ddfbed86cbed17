/**
 * Child process of the verify benchmark, so each figure holds the verifier's memory and nothing
 * of the generator's:
 *
 *   verify <url> [--state-out FILE]    verifyAuditChains over the whole table (the verified heads
 *                                      saved to FILE when given)
 *   incremental <url> --state FILE     verifyAuditChains given the verified heads in FILE
 *   baseline <url>                     the same modules loaded, the store opened, rows counted
 *
 * `--threads on|off` forces walk threads on or off (default: verify decides).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openAuditStore } from '../src/store/open-store.js';
import { verifyAuditChains } from '../src/store/verify/index.js';
import { peakRssBytes, reportToParent } from './child.js';

export interface VerifyChildResult {
  mode: 'verify' | 'incremental' | 'baseline';
  rows: number;
  seconds: number;
  ok: boolean;
  chains: number;
  /** Walk threads the rows were checked on (0: the verifying thread). */
  threads: number;
  peakRssBytes: number;
  /** CPU time of the whole process (every thread), from before the store opened to the end. */
  cpuSeconds: number;
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    'state-out': { type: 'string' },
    state: { type: 'string' },
    threads: { type: 'string' },
  },
});
const [mode, url] = positionals;
if (
  (mode !== 'verify' && mode !== 'incremental' && mode !== 'baseline') ||
  !url ||
  positionals.length !== 2
) {
  throw new TypeError('usage: verify-child.ts verify|incremental|baseline <postgres url> [flags]');
}
if (mode === 'incremental' && !values.state) throw new TypeError('incremental needs --state FILE');
const threads = values.threads === undefined ? undefined : values.threads === 'on';
const cpuBefore = process.cpuUsage();
const cpuSeconds = () => {
  const used = process.cpuUsage(cpuBefore);
  return (used.user + used.system) / 1e6;
};
const store = await openAuditStore({ databaseUrl: url, migrate: false });
try {
  const verified =
    mode === 'incremental' ? JSON.parse(readFileSync(values.state as string, 'utf8')) : null;
  const started = performance.now();
  let result: VerifyChildResult;
  if (mode === 'baseline') {
    const [row] = await store.query<{ n: string }>('SELECT count(*) AS n FROM audit_logs');
    result = {
      mode,
      rows: Number(row?.n ?? 0),
      seconds: (performance.now() - started) / 1000,
      ok: true,
      chains: 0,
      threads: 0,
      peakRssBytes: peakRssBytes(),
      cpuSeconds: cpuSeconds(),
    };
  } else {
    const report = await verifyAuditChains(store, { verified, threads });
    result = {
      mode,
      rows: report.rowsChecked,
      seconds: (performance.now() - started) / 1000,
      ok: report.ok,
      chains: report.chains.length,
      threads: report.threads,
      peakRssBytes: peakRssBytes(),
      cpuSeconds: cpuSeconds(),
    };
    const stateOut = values['state-out'];
    if (mode === 'verify' && stateOut) writeFileSync(stateOut, JSON.stringify(report.verified));
  }
  reportToParent(result);
} finally {
  await store.close();
}
