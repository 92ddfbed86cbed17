/**
 * Child process of the verify benchmark: `verify <url>` runs `verifyAuditChains` over the whole
 * table; `baseline <url>` loads the same modules, opens the store and counts rows. Each reports
 * its peak RSS, so the figure holds the verifier's memory and nothing of the generator's.
 */
import { openAuditStore } from '../src/store/open-store.js';
import { verifyAuditChains } from '../src/store/verify/index.js';
import { peakRssBytes, reportToParent } from './child.js';

export interface VerifyChildResult {
  mode: 'verify' | 'baseline';
  rows: number;
  seconds: number;
  ok: boolean;
  chains: number;
  peakRssBytes: number;
}

const [mode, url] = process.argv.slice(2);
if ((mode !== 'verify' && mode !== 'baseline') || !url) {
  throw new TypeError('usage: verify-child.ts verify|baseline <postgres url>');
}
const store = await openAuditStore({ databaseUrl: url, migrate: false });
try {
  const started = performance.now();
  let result: VerifyChildResult;
  if (mode === 'verify') {
    const report = await verifyAuditChains(store);
    result = {
      mode,
      rows: report.rowsChecked,
      seconds: (performance.now() - started) / 1000,
      ok: report.ok,
      chains: report.chains.length,
      peakRssBytes: peakRssBytes(),
    };
  } else {
    const [row] = await store.query<{ n: string }>('SELECT count(*) AS n FROM audit_logs');
    result = {
      mode,
      rows: Number(row?.n ?? 0),
      seconds: (performance.now() - started) / 1000,
      ok: true,
      chains: 0,
      peakRssBytes: peakRssBytes(),
    };
  }
  reportToParent(result);
} finally {
  await store.close();
}
