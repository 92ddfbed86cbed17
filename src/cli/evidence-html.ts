import type { Evidence } from '../store/queries/evidence.js';
import type { StatsRow } from '../store/queries/stats.js';

const PALETTE = [
  '#2563eb',
  '#16a34a',
  '#dc2626',
  '#9333ea',
  '#ea580c',
  '#0891b2',
  '#ca8a04',
  '#db2777',
  '#4b5563',
  '#65a30d',
  '#7c3aed',
  '#0d9488',
];

function esc(value: unknown): string {
  return String(value ?? '-')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

function duration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A stacked bar chart, one bar per bucket, one colour per series, as inline SVG. */
export function stackedBars(
  title: string,
  rows: StatsRow[],
  series: (r: StatsRow) => string,
): string {
  const buckets = [...new Set(rows.map((r) => r.bucket ?? ''))].sort();
  const names = [...new Set(rows.map(series))].sort();
  const totals = buckets.map((b) =>
    rows.filter((r) => r.bucket === b).reduce((n, r) => n + r.count, 0),
  );
  const max = Math.max(1, ...totals);
  const width = 720;
  const height = 260;
  const left = 48;
  const bottom = 40;
  const plotHeight = height - bottom - 16;
  const step = buckets.length ? (width - left - 8) / buckets.length : 0;
  const barWidth = Math.max(2, step * 0.7);
  const bars: string[] = [];
  buckets.forEach((bucket, i) => {
    let y = height - bottom;
    for (const [j, name] of names.entries()) {
      const count = rows.find((r) => r.bucket === bucket && series(r) === name)?.count ?? 0;
      if (count === 0) continue;
      const h = (count / max) * plotHeight;
      y -= h;
      bars.push(
        `<rect x="${(left + i * step + (step - barWidth) / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[j % PALETTE.length]}"><title>${esc(bucket.slice(0, 10))} ${esc(name)}: ${count}</title></rect>`,
      );
    }
    if (buckets.length <= 16 || i % Math.ceil(buckets.length / 16) === 0)
      bars.push(
        `<text x="${(left + i * step + step / 2).toFixed(1)}" y="${height - bottom + 14}" font-size="10" text-anchor="middle">${esc(bucket.slice(5, 10))}</text>`,
      );
  });
  const axis = `<line x1="${left}" y1="${height - bottom}" x2="${width - 8}" y2="${height - bottom}" stroke="#888"/><text x="${left - 6}" y="${height - bottom - plotHeight + 4}" font-size="10" text-anchor="end">${max}</text><text x="${left - 6}" y="${height - bottom}" font-size="10" text-anchor="end">0</text>`;
  const legend = names
    .map(
      (name, j) =>
        `<span class="key"><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${PALETTE[j % PALETTE.length]}"/></svg> ${esc(name)}</span>`,
    )
    .join(' ');
  return `<figure><figcaption>${esc(title)}</figcaption><svg class="chart" role="img" aria-label="${esc(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${axis}${bars.join('')}</svg><div class="legend">${legend}</div></figure>`;
}

function table(headers: string[], rows: unknown[][]): string {
  if (rows.length === 0) return '<p class="none">None in this period.</p>';
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** One self-contained HTML file (no external assets): styles inline, charts as inline SVG. */
export function renderEvidenceHtml(e: Evidence): string {
  const a = e.approvals;
  const coverage =
    a.gatedToolCalls === 0 ? '-' : `${Math.round((a.linkedToolCalls / a.gatedToolCalls) * 100)} %`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>aitrail evidence ${esc(e.label)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#111}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;font-size:12px}
code,.mono{font-family:ui-monospace,monospace;font-size:11px;word-break:break-all}
.ok{color:#15803d;font-weight:600}.fail{color:#b91c1c;font-weight:600}.legend{font-size:12px}.key{margin-right:.8rem}
figure{margin:1rem 0}figcaption{font-weight:600}.none{color:#666}
</style></head><body>
<h1>Audit evidence: ${esc(e.label)}</h1>
<p>Period ${esc(e.since)} to ${esc(e.before)} (exclusive), generated ${esc(e.generatedAt)} by aitrail.
For SOC 2 CC7.2 (monitoring of system components for anomalies) and EU AI Act Art. 12 (automatic record-keeping).</p>
<p>${e.totals.rows} audit records, ${e.totals.actions} actions, ${e.totals.tenants} tenants.</p>
<h2>Integrity</h2>
<p>Verification: <span class="${e.verify.ok ? 'ok' : 'fail'}">${e.verify.ok ? 'all chains verify' : 'FAILED'}</span>; ${e.verify.rowsChecked} rows checked in ${e.verify.chains.length} chains; signatures ${esc(e.verify.signatures)}.</p>
${e.verify.notes.map((n) => `<p class="none">note: ${esc(n)}</p>`).join('')}
${table(
  ['chain', 'rows', 'failures', 'first failure'],
  e.verify.chains
    .filter((c) => c.failures > 0)
    .map((c) => [c.chainId, c.rows, c.failures, c.firstFailure]),
)}
<h3>Tree heads the result rests on</h3>
${table(
  ['chain', 'seq', 'head hash', 'created', 'algorithm', 'key id', 'signature'],
  e.treeHeads.map((h) => [
    h.chainId,
    h.chainSeq,
    h.headHash,
    h.createdAt,
    h.algorithm,
    h.keyId,
    h.signature,
  ]),
)}
<h2>Activity</h2>
${stackedBars(`Records per ${e.bucket} and action`, e.activityByAction, (r) => r.action ?? '-')}
${stackedBars(`Records per ${e.bucket} and tenant`, e.activityByTenant, (r) => r.tenant ?? '(none)')}
<h2>Human oversight: approvals</h2>
<p>${a.requests} approval requests; median time to decision ${duration(a.medianDecisionMs)}, longest ${duration(a.maxDecisionMs)}.
Approval coverage: ${a.linkedToolCalls} of ${a.gatedToolCalls} calls of approval-gated tools carry an approval id (${coverage}).</p>
${table(['status', 'requests'], Object.entries(a.byStatus))}
<h3>Undecided</h3>
${table(
  ['approval', 'status', 'tenant', 'tool', 'requested', 'group'],
  a.undecided.map((r) => [
    r.approvalId,
    r.status,
    r.tenantId,
    r.toolName,
    r.requestedAt,
    r.approverGroup,
  ]),
)}
<h2>Failures and stops</h2>
${table(
  ['action', 'outcome', 'tenant', 'count'],
  e.failuresAndStops.map((r) => [r.action, r.outcome, r.tenant, r.count]),
)}
<h2>Retention and erasure</h2>
${table(
  ['action', 'tenant', 'count'],
  e.lifecycle.map((r) => [r.action, r.tenant, r.count]),
)}
<h2>Who read the trail</h2>
${table(
  ['reader', 'reads'],
  e.readers.map((r) => [r.actor, r.count]),
)}
</body></html>
`;
}
