// Compiles src/ to dist/ and ships the SQL migrations beside the code that applies them.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = new URL('../', import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');

rmSync(new URL('dist', root), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
cpSync(new URL('src/store/migrations', root), new URL('dist/store/migrations', root), {
  recursive: true,
});
const cli = new URL('dist/cli/main.js', root);
if (!existsSync(cli)) throw new Error('build: dist/cli/main.js is missing');
chmodSync(cli, 0o755);
