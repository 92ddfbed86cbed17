/**
 * Child process of the verify benchmark, so each figure holds the verifier's memory and nothing
 * of the generator's:
 *
 *   verify <url> [STATE_OUT]    verifyAuditChains over the whole table (the verified heads saved
 *                               to STATE_OUT when given)
 *   incremental <url> STATE     verifyAuditChains given the verified heads in STATE
 *   baseline <url>              the same modules loaded, the store opened, the rows counted
 */
import { readFileSync, writeFileSync } from 'node:fs';
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
}

const [mode, url, file] = process.argv.slice(2);
if ((mode !== 'verify' && mode !== 'incremental' && mode !== 'baseline') || !url) {
  throw new TypeError(
    'usage: verify-child.ts verify|incremental|baseline <postgres url> [state file]',
  );
}
if (mode === 'incremental' && !file) throw new TypeError('incremental needs the state file');
const store = await openAuditStore({ databaseUrl: url, migrate: false });
try {
  const verified = mode === 'incremental' ? JSON.parse(readFileSync(file as string, 'utf8')) : null;
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
    };
  } else {
    const report = await verifyAuditChains(store, { verified });
    result = {
      mode,
      rows: report.rowsChecked,
      seconds: (performance.now() - started) / 1000,
      ok: report.ok,
      chains: report.chains.length,
      threads: report.threads,
      peakRssBytes: peakRssBytes(),
    };
    if (mode === 'verify' && file) writeFileSync(file, JSON.stringify(report.verified));
  }
  reportToParent(result);
} finally {
  await store.close();
}
