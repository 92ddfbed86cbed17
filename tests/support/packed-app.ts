/**
 * Throwaway apps that install the packed package the way a user meets it, for set-ups that
 * cannot live in this repository's own node_modules: the OpenTelemetry JS 2.x line (api 1.9),
 * where Sentry 10 and `@vercel/otel` 2.1 live, beside the 3.x line (api 1.10) the repository is
 * developed on. npm refuses both in one tree: every 2.x package peers on `@opentelemetry/api`
 * below 1.10.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScratchDir } from './postgres.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What `npm pack` reads, besides node_modules. */
const PACKAGE_SOURCES = [
  'package.json',
  'README.md',
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts',
  'src',
  'collector',
  'docs',
];

interface Manifest {
  devDependencies?: Record<string, string>;
}

/** The version a devDependency alias (`"sentry-v10": "npm:@sentry/node@10.78.0"`) pins. */
function aliasedVersion(alias: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
  const spec = manifest.devDependencies?.[alias];
  const version = spec === undefined ? undefined : /^npm:@?[^@]+@(.+)$/.exec(spec)?.[1];
  if (version === undefined) throw new Error(`package.json pins no devDependency alias ${alias}`);
  return version;
}

/**
 * The OpenTelemetry JS 2.x line an app on Node 20, Sentry 10 or `@vercel/otel` 2.1 has, with those
 * SDKs. aitrail's own OpenTelemetry dependencies accept both lines, so npm reuses these.
 */
export function otel2xPins(): Record<string, string> {
  const sentry10 = aliasedVersion('sentry-v10');
  return {
    '@opentelemetry/api': '1.9.1',
    '@opentelemetry/api-logs': '0.223.1',
    '@opentelemetry/context-async-hooks': '2.12.1',
    '@opentelemetry/core': '2.12.1',
    '@opentelemetry/exporter-trace-otlp-http': '0.223.1',
    '@opentelemetry/resources': '2.12.1',
    '@opentelemetry/sdk-trace': '2.12.1',
    '@opentelemetry/sdk-trace-base': '2.12.1',
    '@sentry/node': sentry10,
    '@sentry/opentelemetry': sentry10,
    '@vercel/otel': '2.1.3',
  };
}

/**
 * Builds and packs the current source in a copy of the repository, so that it never races a
 * build of the repository's own dist/ (tests/docs.test.ts packs in place). Returns the tarball.
 */
export function packCopy(work: string): string {
  const copy = join(work, 'package-src');
  mkdirSync(copy);
  for (const entry of PACKAGE_SOURCES)
    cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  // `npm pack` runs `prepare`, which builds dist/ inside the copy.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: copy,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  ) as Array<{ filename: string }>;
  const tarball = packed[0]?.filename;
  if (!tarball) throw new Error('npm pack produced no tarball');
  return join(work, tarball);
}

/** An ESM app in `dir` with `specs` (a tarball path, `name@version`, …) installed. */
export function installApp(dir: string, specs: readonly string[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'throwaway-app', private: true, type: 'module' }),
  );
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', ...specs],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/** Every copy of `@opentelemetry/api` the app has: one, or spans are lost between copies. */
export function apiCopies(dir: string): string[] {
  return execFileSync('npm', ['ls', '--all', '--parseable', '@opentelemetry/api'], {
    cwd: dir,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .filter(Boolean);
}

/**
 * The tarball of the current source, packed once per test run (in a copy, see `packCopy`) and
 * shared by every file that installs it: the first caller packs under a lock, the others wait.
 */
export async function sharedPackedTarball(): Promise<string> {
  const root = join(runScratchDir(), 'packed');
  const done = join(root, 'tarball-path');
  const failed = join(root, 'error');
  try {
    mkdirSync(root);
  } catch {
    return waitForPack(done, failed);
  }
  try {
    const work = join(root, 'work');
    mkdirSync(work);
    const tarball = packCopy(work);
    writeFileSync(done, tarball);
    return tarball;
  } catch (error) {
    writeFileSync(failed, error instanceof Error ? (error.stack ?? error.message) : String(error));
    throw error;
  }
}

const PACK_WAIT_MS = 300_000;

async function waitForPack(done: string, failed: string): Promise<string> {
  const deadline = Date.now() + PACK_WAIT_MS;
  while (Date.now() < deadline) {
    if (existsSync(done)) return readFileSync(done, 'utf8');
    if (existsSync(failed)) {
      throw new Error(`npm pack failed in another test file:\n${readFileSync(failed, 'utf8')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no packed tarball after ${PACK_WAIT_MS / 1000} s`);
}
