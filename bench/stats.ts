/**
 * Medians, ratios and the printed table. Every figure is the median of its runs; a figure that
 * names a baseline also carries the ratio to it, taken run by run (paired) and then the median,
 * so slow drift of the machine during a run cancels out.
 */

export interface Target {
  /** How the target reads in the table, e.g. `≤ 1.05× (a)`. */
  text: string;
  met: boolean;
}

export interface Figure {
  /** Benchmark section: `hot path`, `ingest`, … */
  group: string;
  /** Stable identifier used in the JSON output and to name baselines. */
  id: string;
  /** What was measured, as a reader would say it. */
  label: string;
  unit: string;
  /** One value per run. */
  samples: number[];
  median: number;
  /** Figures this one is compared with, each with the median of the per-run ratios. */
  baselines?: Array<{ id: string; ratio: number }>;
  target?: Target;
  /** Printed under the table: what was dropped, which index a plan used, … */
  note?: string;
  /** Extra facts for the JSON output only (e.g. a query plan summary). */
  details?: Record<string, unknown>;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Nearest-rank percentile, `p` in 0..100. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Median of `values[i] / baseline[i]`: both lists hold one value per run, in run order. */
export function pairedRatio(values: readonly number[], baseline: readonly number[]): number {
  const ratios = values.map((value, i) => value / (baseline[i] as number));
  return median(ratios.filter((r) => Number.isFinite(r)));
}

export function figure(
  fields: Omit<Figure, 'median' | 'baselines'> & { baseline?: Figure | Figure[] },
): Figure {
  const { baseline, ...rest } = fields;
  const result: Figure = { ...rest, median: median(rest.samples) };
  const baselines = baseline === undefined ? [] : Array.isArray(baseline) ? baseline : [baseline];
  if (baselines.length > 0) {
    result.baselines = baselines.map((b) => ({
      id: b.id,
      ratio: pairedRatio(rest.samples, b.samples),
    }));
  }
  return result;
}

/** The ratio of `f` to the baseline `id` (NaN when it has none). */
export function ratioTo(f: Figure, id: string): number {
  return f.baselines?.find((b) => b.id === id)?.ratio ?? Number.NaN;
}

/** Three significant digits, thousands separated: `1,234`, `12.3`, `0.456`. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '-';
  return ratio >= 10 ? `${ratio.toFixed(1)}×` : `${ratio.toFixed(2)}×`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function formatDuration(ms: number): string {
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  return `${ms.toFixed(0)} ms`;
}

const COLUMNS = ['Benchmark', 'Case', 'Median', 'Unit', 'vs baseline', 'Target', 'Runs'] as const;

function rowOf(f: Figure): string[] {
  const baseline = (f.baselines ?? []).map((b) => `${formatRatio(b.ratio)} ${b.id}`).join(', ');
  const target = f.target ? `${f.target.met ? 'met' : 'MISSED'}: ${f.target.text}` : '';
  return [
    f.group,
    `${f.id} ${f.label}`,
    formatNumber(f.median),
    f.unit,
    baseline,
    target,
    String(f.samples.length),
  ];
}

/** A fixed-width table for the terminal. */
export function renderTable(figures: readonly Figure[]): string {
  const rows = figures.map(rowOf);
  const widths = COLUMNS.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) =>
        i === 2 ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number),
      )
      .join('  ')
      .trimEnd();
  return [line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The same table as GitHub Markdown, for the README. */
export function renderMarkdownTable(figures: readonly Figure[]): string {
  const escapePipes = (cell: string) => cell.replaceAll('|', '\\|');
  const rows = figures.map((f) => rowOf(f).map(escapePipes));
  return [
    `| ${COLUMNS.join(' | ')} |`,
    `|${COLUMNS.map((_, i) => (i === 2 ? '---:' : '---')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}
