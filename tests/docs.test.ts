/**
 * The docs cannot drift from the code: every ```ts and ```js block of README.md and docs/*.md
 * runs as an ESM program against the packed package (built and packed once, installed into a
 * temp app, the way a user meets it), with DATABASE_URL set to a fresh Postgres database.
 * TypeScript blocks run through Node's type stripping. Illustrative snippets are fenced
 * ```text or ```sh and are not run. Third-party packages a block imports (an AI SDK, an
 * OpenTelemetry instrumentation) are installed beside aitrail at the version package.json pins
 * in devDependencies; a package pinned nowhere fails the run with its name. A block fenced
 * ```ts otel-2.x is for an app on the OpenTelemetry JS 2.x line (Sentry 10, @vercel/otel 2.1):
 * it runs in a second app with that line (tests/support/packed-app.ts pins it).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  installApp,
  otel2xPins,
  sharedOtel2xApp,
  sharedPackedTarball,
} from './support/packed-app.js';
import { testDatabaseUrl } from './support/postgres.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The OpenTelemetry line a block's app has: this repository's (3.x), or the 2.x line. */
type OtelLine = 'main' | 'otel-2.x';

interface CodeBlock {
  file: string;
  line: number;
  language: 'ts' | 'js';
  otel: OtelLine;
  code: string;
}

function codeBlocks(file: string): CodeBlock[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let open: { language: string; tags: string[]; line: number; body: string[] } | null = null;
  for (const [index, line] of lines.entries()) {
    // The info string is the language, then optional words (`ts otel-2.x`).
    const fence = /^```(\S*)((?:[ \t]+\S+)*)\s*$/.exec(line);
    if (!fence) {
      open?.body.push(line);
      continue;
    }
    if (open === null) {
      const tags = (fence[2] ?? '').split(/\s+/).filter(Boolean);
      open = { language: fence[1] ?? '', tags, line: index + 1, body: [] };
      continue;
    }
    if (open.language === 'ts' || open.language === 'js') {
      blocks.push({
        file,
        line: open.line,
        language: open.language,
        otel: open.tags.includes('otel-2.x') ? 'otel-2.x' : 'main',
        code: open.body.join('\n'),
      });
    }
    open = null;
  }
  return blocks;
}

const documents = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];
const blocks = documents.flatMap(codeBlocks);

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
}
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;

/** The package names (not subpaths) a block imports, statically or dynamically. */
function importedPackages(code: string): string[] {
  const specifiers = [...code.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map(
    (match) => match[1] as string,
  );
  return specifiers
    .filter((spec) => !spec.startsWith('.') && !spec.startsWith('/') && !spec.startsWith('node:'))
    .map((spec) =>
      spec
        .split('/')
        .slice(0, spec.startsWith('@') ? 2 : 1)
        .join('/'),
    )
    .filter((name) => !builtinModules.includes(name));
}

/**
 * What the temp app installs besides the tarball: every package the blocks import that aitrail
 * does not bring itself (a dependency or a required peer), at its devDependencies version; for
 * the 2.x line, that line and the packages pinned with it.
 */
function thirdPartyInstalls(otel: OtelLine): string[] {
  const forLine = blocks.filter((block) => block.otel === otel);
  if (otel === 'otel-2.x') {
    const pins = otel2xPins();
    for (const block of forLine) {
      for (const name of importedPackages(block.code)) {
        if (name !== manifest.name && pins[name] === undefined) {
          throw new Error(
            `${block.file}:${block.line} imports ${name}, which tests/support/packed-app.ts does not pin for the OpenTelemetry 2.x line`,
          );
        }
      }
    }
    return Object.entries(pins).map(([name, version]) => `${name}@${version}`);
  }
  const brought = new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}).filter(
      (name) => !manifest.peerDependenciesMeta?.[name]?.optional,
    ),
  ]);
  const needed = new Set(forLine.flatMap((block) => importedPackages(block.code)));
  const installs: string[] = [];
  for (const name of [...needed].sort()) {
    if (brought.has(name)) continue;
    const version = manifest.devDependencies?.[name];
    if (version === undefined) {
      const where = forLine
        .filter((block) => importedPackages(block.code).includes(name))
        .map((block) => `${block.file}:${block.line}`);
      throw new Error(
        `${where.join(', ')} import ${name}, which package.json does not pin in devDependencies: ` +
          'pin it there, or fence the block as ```text',
      );
    }
    installs.push(`${name}@${version}`);
  }
  return installs;
}

describe('code blocks in README.md and docs/', () => {
  let work: string;
  const apps: Record<OtelLine, string> = { main: '', 'otel-2.x': '' };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'aitrail-docs-'));
    // Built and packed from a copy of the source, once per run (shared with other files).
    const tarball = await sharedPackedTarball();
    if (blocks.some((block) => block.otel === 'main')) {
      apps.main = join(work, 'app');
      installApp(apps.main, [tarball, ...thirdPartyInstalls('main')]);
    }
    if (blocks.some((block) => block.otel === 'otel-2.x')) {
      // The 2.x line's blocks import nothing beyond its pins, so the run's shared 2.x app has
      // exactly what they need (thirdPartyInstalls checks that, naming a block that does not).
      thirdPartyInstalls('otel-2.x');
      apps['otel-2.x'] = await sharedOtel2xApp();
    }
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('finds the code blocks to run', () => {
    expect(blocks.length).toBeGreaterThan(0);
    expect(blocks.some((block) => block.file === 'README.md')).toBe(true);
  });

  it.each(blocks.map((block) => [`${block.file}:${block.line}`, block] as const))(
    '%s runs to completion against the packed package',
    async (_name, block) => {
      const app = apps[block.otel];
      const script = join(
        app,
        `${block.file.replace(/\W+/g, '-')}-${block.line}.${block.language === 'ts' ? 'mts' : 'mjs'}`,
      );
      writeFileSync(script, `${block.code}\n`);
      const dataDir = mkdtempSync(join(work, 'data-'));
      const databaseUrl = await testDatabaseUrl(); // a fresh database per block
      const { code, output } = await new Promise<{ code: number | null; output: string }>(
        (resolve) => {
          execFile(
            process.execPath,
            [script],
            {
              cwd: app,
              timeout: 90_000,
              env: {
                ...process.env,
                DATABASE_URL: databaseUrl,
                AITRAIL_DATA_DIR: dataDir,
                // Sentry falls back to SENTRY_DSN: a block must never reach a real project.
                SENTRY_DSN: '',
                NODE_OPTIONS: '',
                NODE_NO_WARNINGS: '1',
              },
            },
            (error, stdout, stderr) =>
              resolve({
                code: error ? ((error as { code?: number }).code ?? 1) : 0,
                output: `${stdout}${stderr}`,
              }),
          );
        },
      );
      expect(code, `${block.file}:${block.line} failed:\n${output}`).toBe(0);
    },
    120_000,
  );
});
