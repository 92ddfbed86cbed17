/**
 * Throwaway apps that install the packed package the way a user meets it, for set-ups that
 * cannot live in this repository's own node_modules: the OpenTelemetry JS 2.x line (api 1.9),
 * where Sentry 10 and `@vercel/otel` 2.1 live, beside the 3.x line (api 1.10) the repository is
 * developed on. npm refuses both in one tree: every 2.x package peers on `@opentelemetry/api`
 * below 1.10.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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

/** What the build reads (scripts/build.mjs): dist/ is fresh when none changed after it. */
const BUILD_INPUTS = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts', 'src'];
/** What a build always writes; without these dist/ was not built (the tests may add the seed). */
const BUILD_OUTPUTS = ['dist/esm', 'dist/cjs'];

/**
 * Packs the current source in a copy of the repository, so that it never races a build of the
 * repository's own dist/. When the repository's dist/ was built after every build input last
 * changed (CI builds just before the tests), the copy takes that dist/ and packs it as it is
 * (`--ignore-scripts`): the same tarball as a fresh build, without building it a second time.
 * Otherwise `npm pack` runs `prepare`, which builds dist/ inside the copy. Returns the tarball.
 */
export function packCopy(work: string): string {
  const copy = join(work, 'package-src');
  mkdirSync(copy);
  for (const entry of PACKAGE_SOURCES)
    cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const prebuilt = freshDist();
  if (prebuilt) cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
  const packed = JSON.parse(
    execFileSync(
      'npm',
      ['pack', '--json', '--pack-destination', work, ...(prebuilt ? ['--ignore-scripts'] : [])],
      { cwd: copy, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    ),
  ) as Array<{ filename: string }>;
  const tarball = packed[0]?.filename;
  if (!tarball) throw new Error('npm pack produced no tarball');
  console.info(
    `[pack] ${tarball} ${prebuilt ? 'from the fresh dist/ (no rebuild)' : 'built and packed'}`,
  );
  return join(work, tarball);
}

/**
 * True when the repository's dist/ is a build of the current inputs: every file a build writes
 * is newer than every build input. A build empties dist/ first, so its oldest file dates it.
 */
export function freshDist(): boolean {
  const outputs = BUILD_OUTPUTS.map((dir) => join(ROOT, dir));
  if (!outputs.every((dir) => existsSync(dir))) return false;
  if (
    ![
      'dist/esm/index.js',
      'dist/cjs/index.js',
      'dist/esm/cli/main.js',
      'dist/pglite-seed.bin',
    ].every((file) => existsSync(join(ROOT, file)))
  )
    return false;
  let builtAt = Number.POSITIVE_INFINITY;
  for (const dir of outputs) for (const time of mtimes(dir)) builtAt = Math.min(builtAt, time);
  for (const input of BUILD_INPUTS) {
    for (const time of mtimes(join(ROOT, input))) if (time >= builtAt) return false;
  }
  return true;
}

function* mtimes(path: string): Generator<number> {
  const stat = statSync(path);
  if (!stat.isDirectory()) {
    yield stat.mtimeMs;
    return;
  }
  for (const entry of readdirSync(path)) yield* mtimes(join(path, entry));
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
 * shared by every file that installs it.
 */
export function sharedPackedTarball(): Promise<string> {
  return oncePerRun('packed', (root) => {
    const work = join(root, 'work');
    mkdirSync(work);
    return packCopy(work);
  });
}

/**
 * An app on the OpenTelemetry JS 2.x line (`otel2xPins`) with the packed package, installed once
 * per test run and shared by the files that run programs in it (the docs' 2.x blocks, the 2.x
 * set-ups): the same install each would make. Its `node_modules` is read-only by convention; a
 * file adds only programs, under names of its own. Returns the app's directory.
 */
export function sharedOtel2xApp(): Promise<string> {
  return oncePerRun('app-otel-2x', async (root) => {
    const app = join(root, 'app');
    const pins = Object.entries(otel2xPins()).map(([name, version]) => `${name}@${version}`);
    installApp(app, [await sharedPackedTarball(), ...pins]);
    return app;
  });
}

/**
 * Makes a thing once per test run for every file that asks, in any worker: the first caller
 * makes it under a lock (a directory in the run's scratch dir), the others wait for its result.
 */
async function oncePerRun(
  key: string,
  make: (root: string) => string | Promise<string>,
): Promise<string> {
  const root = join(runScratchDir(), key);
  const done = join(root, 'result');
  const failed = join(root, 'error');
  try {
    mkdirSync(root);
  } catch {
    return waitForResult(key, done, failed);
  }
  try {
    const result = await make(root);
    // Renamed into place, so a waiting file never reads it half written.
    writeFileSync(`${done}.partial`, result);
    renameSync(`${done}.partial`, done);
    return result;
  } catch (error) {
    writeFileSync(failed, error instanceof Error ? (error.stack ?? error.message) : String(error));
    throw error;
  }
}

/** Under the 600 s the files give their set-up: a pack and an install on a loaded machine. */
const ONCE_WAIT_MS = 540_000;

async function waitForResult(key: string, done: string, failed: string): Promise<string> {
  const deadline = Date.now() + ONCE_WAIT_MS;
  while (Date.now() < deadline) {
    if (existsSync(done)) return readFileSync(done, 'utf8');
    if (existsSync(failed)) {
      throw new Error(`${key} failed in another test file:\n${readFileSync(failed, 'utf8')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no ${key} after ${ONCE_WAIT_MS / 1000} s`);
}
