// Installs the packed tarball into an empty app, the way a user meets the package, and checks
// that the API works from plain .mjs, that the types compile in a strict TypeScript project,
// and that `npx aitrail logs --format json` reads back what the app recorded. (skipLibCheck:
// drizzle-orm's own declarations do not pass a full check, as in most apps that use it.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../', import.meta.url);
const require = createRequire(import.meta.url);
const work = mkdtempSync(join(tmpdir(), 'aitrail-pack-'));
const app = join(work, 'app');
const run = (cmd, args, cwd, env = {}) =>
  execFileSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });

try {
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root));
  const tarball = join(work, packed[0].filename);
  console.log(
    `packed ${packed[0].filename}: ${packed[0].files.length} files, ${packed[0].size} bytes`,
  );

  execFileSync('mkdir', ['-p', app]);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'smoke-app', private: true, type: 'module' }),
  );
  run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, '@types/node@20'],
    app,
  );

  writeFileSync(
    join(app, 'record.mjs'),
    `import { initAuditTelemetry, traceToolCall, withAuditContext } from 'aitrail';
const telemetry = await initAuditTelemetry({ serviceName: 'smoke-app' });
await withAuditContext({ tenantId: 'acme', actor: { type: 'user', id: 'user_smoke' } }, () =>
  traceToolCall({ toolName: 'lookup_order', params: { orderId: 'ORD-1', password: 'hunter2' } }, async () => 'ok'),
);
await telemetry.shutdown();
`,
  );
  const env = { DATABASE_URL: '', AITRAIL_DATA_DIR: join(app, '.aitrail') };
  run(process.execPath, ['record.mjs'], app, env);
  const rows = JSON.parse(run('npx', ['--no', 'aitrail', 'logs', '--format', 'json'], app, env));
  const row = rows.find((r) => r.toolName === 'lookup_order');
  if (row?.actorId !== 'user_smoke' || row.action !== 'ai.tool_call') {
    throw new Error(
      `npx aitrail logs did not return the recorded tool call: ${JSON.stringify(rows)}`,
    );
  }
  if (JSON.stringify(row).includes('hunter2')) throw new Error('a secret reached the audit row');
  console.log(`npx aitrail logs --format json returned the tool call (event ${row.eventId})`);

  writeFileSync(
    join(app, 'typed.ts'),
    `import { type AuditLogEntry, AI_AUDIT_ACTIONS, initAuditTelemetry, queryAuditLogs, traceToolCall } from 'aitrail';
import { auditLogs } from 'aitrail/schema';
const telemetry = await initAuditTelemetry({ serviceName: 'typed', captureContent: 'none' });
const result: number = await traceToolCall({ toolName: 'sum', params: { a: 1 } }, () => 1 + 1);
const rows: AuditLogEntry[] = await queryAuditLogs(telemetry.store, { action: AI_AUDIT_ACTIONS.TOOL_CALL });
const column: string = auditLogs.eventId.name;
console.log(result, rows.length, column);
await telemetry.shutdown();
`,
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
      },
      files: ['typed.ts'],
    }),
  );
  run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
  console.log('the shipped types compile in a strict TypeScript project');
} finally {
  rmSync(work, { recursive: true, force: true });
}
