/**
 * What importing aitrail costs an app: `import('aitrail')` (the built ESM entry, as an app
 * loads it) against `import('@opentelemetry/sdk-node')`, each in a fresh plain Node process
 * (no tsx), wall time of the import and RSS after it. Target: at most half of sdk-node.
 * Needs `npm run build` first (the bench reads dist/).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Figure, figure, ratioTo } from './stats.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = fileURLToPath(new URL('../dist/esm/index.js', import.meta.url));

const PROBE = `const started = performance.now();
await import(process.argv[1]);
const ms = performance.now() - started;
console.log(JSON.stringify({ ms, rss: process.memoryUsage().rss }));`;

interface ImportCost {
  ms: number;
  rss: number;
}

function measure(specifier: string): ImportCost {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', PROBE, specifier], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return JSON.parse(out.trim().split('\n').pop() as string) as ImportCost;
}

export async function benchImportTime(options: { runs: number }): Promise<Figure[]> {
  if (!existsSync(ENTRY))
    throw new Error('bench import-time: run `npm run build` first (dist/esm is missing)');
  const targets = {
    bare: 'node:os',
    sdkNode: '@opentelemetry/sdk-node',
    aitrail: ENTRY,
  };
  const samples = {
    bare: [] as ImportCost[],
    sdkNode: [] as ImportCost[],
    aitrail: [] as ImportCost[],
  };
  // Interleaved, so drift of the machine affects all three alike.
  for (let run = 0; run < options.runs; run++) {
    for (const key of Object.keys(targets) as Array<keyof typeof targets>) {
      samples[key].push(measure(targets[key]));
    }
  }
  const group = 'import cost';
  const mk = (
    key: keyof typeof targets,
    label: string,
    metric: keyof ImportCost,
    baseline?: Figure,
  ) =>
    figure({
      group,
      id: `import.${key}.${metric}`,
      label,
      unit: metric === 'ms' ? 'ms' : 'MiB',
      samples: samples[key].map((s) => (metric === 'ms' ? s.ms : s.rss / 2 ** 20)),
      ...(baseline ? { baseline } : {}),
    });
  const sdkMs = mk('sdkNode', "import('@opentelemetry/sdk-node') time", 'ms');
  const sdkRss = mk('sdkNode', "import('@opentelemetry/sdk-node') RSS", 'rss');
  const ms = mk('aitrail', "import('aitrail') time", 'ms', sdkMs);
  const rss = mk('aitrail', "import('aitrail') RSS", 'rss', sdkRss);
  // What the import adds to a bare Node process, run by run: the part an app pays for.
  const added = (key: 'aitrail' | 'sdkNode', baseline?: Figure) =>
    figure({
      group,
      id: `import.${key}.rssAdded`,
      label: `${key === 'aitrail' ? "import('aitrail')" : "import('@opentelemetry/sdk-node')"} RSS above bare node`,
      unit: 'MiB',
      samples: samples[key].map(
        (s, run) => (s.rss - (samples.bare[run] as ImportCost).rss) / 2 ** 20,
      ),
      ...(baseline ? { baseline } : {}),
    });
  const sdkAdded = added('sdkNode');
  const aitrailAdded = added('aitrail', sdkAdded);
  ms.target = { text: '≤ 0.5× sdk-node', met: ratioTo(ms, sdkMs.id) <= 0.5 };
  aitrailAdded.target = {
    text: '≤ 0.5× sdk-node',
    met: ratioTo(aitrailAdded, sdkAdded.id) <= 0.5,
  };
  return [
    mk('bare', "bare node (import('node:os')) time", 'ms'),
    mk('bare', "bare node (import('node:os')) RSS", 'rss'),
    sdkMs,
    sdkRss,
    sdkAdded,
    ms,
    rss,
    aitrailAdded,
  ];
}
