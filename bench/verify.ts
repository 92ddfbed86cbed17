/**
 * Verify: rows per second of `verifyAuditChains` over the generated table, and its peak RSS,
 * each run in a child process beside a baseline child that loads the same code, opens the
 * store and counts the rows (the memory any process of this kind starts with).
 */
import { runChild } from './child.js';
import type { Dataset } from './dataset.js';
import { type Figure, figure } from './stats.js';
import type { VerifyChildResult } from './verify-child.js';

export interface VerifyOptions {
  runs: number;
  dataset: Dataset;
  log: (line: string) => void;
}

const GROUP = 'verify';
const MIB = 1024 * 1024;

export async function benchVerify(options: VerifyOptions): Promise<Figure[]> {
  const { dataset } = options;
  const timeoutMs = Math.max(120_000, dataset.rows * 0.5);
  const rowsPerSecond: number[] = [];
  const verifyRss: number[] = [];
  const baselineRss: number[] = [];
  const problems: string[] = [];
  for (let run = 0; run < options.runs; run++) {
    const base = await runChild<VerifyChildResult>(
      'verify-child.ts',
      ['baseline', dataset.database.url],
      { timeoutMs },
    );
    const result = await runChild<VerifyChildResult>(
      'verify-child.ts',
      ['verify', dataset.database.url],
      { timeoutMs },
    );
    if (!result.ok) problems.push(`run ${run + 1}: the chains did not verify`);
    if (result.rows !== dataset.rows)
      problems.push(`run ${run + 1}: checked ${result.rows} of ${dataset.rows} rows`);
    rowsPerSecond.push(result.rows / result.seconds);
    verifyRss.push(result.peakRssBytes / MIB);
    baselineRss.push(base.peakRssBytes / MIB);
    options.log(
      `  run ${run + 1}: ${Math.round(result.rows / result.seconds)} rows/s, peak RSS ${(result.peakRssBytes / MIB).toFixed(0)} MiB (baseline ${(base.peakRssBytes / MIB).toFixed(0)} MiB)`,
    );
  }
  const rows = dataset.rows.toLocaleString('en-US');
  const baseline = figure({
    group: GROUP,
    id: 'v.rss.base',
    label: 'baseline child: same modules, store opened, COUNT(*): peak RSS',
    unit: 'MiB',
    samples: baselineRss,
  });
  return [
    figure({
      group: GROUP,
      id: 'v.rate',
      label: `verifyAuditChains over ${rows} rows, ${dataset.chains} chains (child process)`,
      unit: 'rows/s',
      samples: rowsPerSecond,
      note: problems.length > 0 ? problems.join('; ') : undefined,
    }),
    figure({
      group: GROUP,
      id: 'v.rss',
      label: `verifyAuditChains over ${rows} rows: peak RSS of the child`,
      unit: 'MiB',
      samples: verifyRss,
      baseline,
    }),
    baseline,
  ];
}
