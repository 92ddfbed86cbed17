/**
 * The sources the tests run in child processes (the CLI, fixtures), compiled once per test
 * project into plain JavaScript, so each child starts on Node alone instead of loading a
 * TypeScript loader and transforming every module again (about 0.8 s of CPU per process).
 *
 * The tree mirrors the repo (`src/`, `tests/fixtures/`, `tests/support/`), one esbuild
 * transform per file and no bundling, with every other file copied beside it (SQL migrations,
 * the embedded store's worker); it lives under `node_modules/.cache` so packages resolve from
 * the repo's `node_modules`. The embedded store's seed is copied where the code looks for it.
 */
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { transformSync } from 'esbuild';

/** Directories compiled, relative to the repo root. */
const COMPILED_DIRS = ['src', 'tests/fixtures', 'tests/support'];
const SEED_FILE = 'dist/pglite-seed.bin';

export function compileTestTree(repoRoot: string): string {
  const out = join(
    repoRoot,
    'node_modules/.cache',
    `aitrail-tests-${randomBytes(4).toString('hex')}`,
  );
  const tsconfigRaw = readFileSync(join(repoRoot, 'tsconfig.json'), 'utf8');
  for (const dir of COMPILED_DIRS) {
    for (const file of walk(join(repoRoot, dir))) {
      const path = relative(repoRoot, file);
      if (path.endsWith('.ts') && !path.endsWith('.d.ts')) {
        const { code } = transformSync(readFileSync(file, 'utf8'), {
          loader: 'ts',
          format: 'esm',
          platform: 'node',
          target: 'es2022',
          sourcefile: path,
          tsconfigRaw,
        });
        writeTo(join(out, path.replace(/\.ts$/, '.js')), code);
      } else {
        mkdirSync(dirname(join(out, path)), { recursive: true });
        copyFileSync(file, join(out, path));
      }
    }
  }
  // The repo is an ES module package; the tree is read the same way.
  writeTo(join(out, 'package.json'), `${JSON.stringify({ type: 'module' })}\n`);
  const seed = join(repoRoot, SEED_FILE);
  if (existsSync(seed)) {
    mkdirSync(dirname(join(out, SEED_FILE)), { recursive: true });
    copyFileSync(seed, join(out, SEED_FILE));
  }
  return out;
}

export function removeTestTree(tree: string): void {
  rmSync(tree, { recursive: true, force: true });
}

function writeTo(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}
