// Builds the package twice from src/: ESM into dist/esm (tsc, with the declarations) and
// CommonJS into dist/cjs (esbuild, file by file, no bundling), so `import` and `require` both
// work. The CLI ships as ESM only. SQL migrations are copied beside the code that applies them,
// and so is the embedded store's worker (plain JavaScript). Last, the embedded store's seed is
// made from the built code and the real migrations (dist/pglite-seed.bin, shared by both builds).
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transformSync } from 'esbuild';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../', import.meta.url));
const src = join(root, 'src');
const esm = join(root, 'dist/esm');
const cjs = join(root, 'dist/cjs');
const tsc = require.resolve('typescript/bin/tsc');

rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', esm], {
  cwd: root,
  stdio: 'inherit',
});

// CommonJS has no import.meta: module-relative paths come from __filename instead.
const IMPORT_META_URL = '__aitrail_import_meta_url';
const IMPORT_META_SHIM = `const ${IMPORT_META_URL} = require('node:url').pathToFileURL(__filename).href;\n`;
for (const file of walk(src)) {
  const path = relative(src, file);
  if (path.endsWith('.d.ts') || path.startsWith('cli/') || path.startsWith('demo/')) continue;
  const out = join(cjs, path.replace(/\.ts$/, '.js'));
  const source = readFileSync(file, 'utf8');
  const { code } = transformSync(source, {
    loader: 'ts',
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcefile: path,
    define: { 'import.meta.url': IMPORT_META_URL },
    banner: source.includes('import.meta.url') ? IMPORT_META_SHIM : '',
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, code);
}
// The same declarations describe both builds; inside a "commonjs" package scope they are read as CJS.
for (const file of walk(esm)) {
  if (!file.endsWith('.d.ts')) continue;
  const path = relative(esm, file);
  if (path.startsWith('cli/') || path.startsWith('demo/')) continue;
  cpSync(file, join(cjs, path));
}
writeFileSync(join(cjs, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);

// drizzle-orm's own declarations do not pass a full type check (gel, mysql2, singlestore, ...),
// so the published AuditStore types `db` opaquely: an app that never imports `aitrail/schema`
// type-checks without skipLibCheck. The drizzle tables stay fully typed in `aitrail/schema`.
const DRIZZLE_DATABASE =
  /^import type \{ PgDatabase, PgQueryResultHKT \} from 'drizzle-orm\/pg-core';\n([\s\S]*?)^import type \* as schema from '\.\/schema\.js';\nexport type AuditDatabase = PgDatabase<PgQueryResultHKT, typeof schema>;$/m;
const OPAQUE_DATABASE = `$1/**
 * The drizzle database (\`PgDatabase\` over the \`aitrail/schema\` tables), typed opaquely so these
 * declarations do not load drizzle-orm's; cast it with drizzle's types to query through it.
 */
export type AuditDatabase = { readonly [member: string]: unknown };`;
for (const out of [esm, cjs]) {
  const file = join(out, 'store/audit-store.d.ts');
  const declarations = readFileSync(file, 'utf8');
  if (!DRIZZLE_DATABASE.test(declarations)) {
    throw new Error(`build: ${relative(root, file)} no longer declares AuditDatabase as expected`);
  }
  writeFileSync(file, declarations.replace(DRIZZLE_DATABASE, OPAQUE_DATABASE));
}

for (const out of [esm, cjs]) {
  cpSync(join(src, 'store/migrations'), join(out, 'store/migrations'), { recursive: true });
  cpSync(join(src, 'store/pglite-host.mjs'), join(out, 'store/pglite-host.mjs'));
}
const cli = join(esm, 'cli/main.js');
if (!existsSync(cli)) throw new Error('build: dist/esm/cli/main.js is missing');
chmodSync(cli, 0o755);

const seedBuilder = pathToFileURL(join(esm, 'store/pglite-seed-build.js')).href;
const { buildPgliteSeed } = await import(seedBuilder);
const { SEED_FILE } = await import(pathToFileURL(join(esm, 'store/pglite-seed.js')).href);
writeFileSync(join(root, 'dist', SEED_FILE), await buildPgliteSeed());

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}
