// Installs the packed tarball into an empty app, the way a user meets the package, on the Node
// running this script, with one OpenTelemetry line in the app:
//   --leg main    current OTel (api 1.10, sdk-node 0.301): ESM and CommonJS apps, types for
//                 nodenext/node16/bundler (ESM and CJS) without skipLibCheck, drizzle-kit.
//   --leg compat  OTel JS 2.x (api 1.9, sdk-node 0.223), for Node 20 apps: ESM core pipeline.
// Each leg checks, against the Postgres in DATABASE_URL: initAuditTelemetry + traceToolCall + a
// span from the app's own tracer give audit rows in one shared trace; building blocks composed
// into the app's own NodeSDK record too; a provider registered first is refused loudly. With no
// DATABASE_URL at all, the same calls and the CLI use the embedded store the package ships.
// Run through scripts/with-postgres.ts (CI does). Fails loudly, never skips.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const LEGS = {
  main: {
    otel: [
      '@opentelemetry/api@1.10',
      '@opentelemetry/sdk-node@0.301',
      '@opentelemetry/sdk-trace@3.1',
    ],
    extra: ['@types/node@22', 'typescript@5.9', 'drizzle-kit@0.31', 'drizzle-orm@0.45'],
  },
  compat: {
    otel: [
      '@opentelemetry/api@1.9',
      '@opentelemetry/sdk-node@0.223',
      '@opentelemetry/sdk-trace@2.12',
    ],
    extra: [],
  },
};

const { values } = parseArgs({ options: { leg: { type: 'string', default: 'main' } } });
const leg = LEGS[values.leg];
if (!leg) throw new Error(`pack-smoke: --leg must be one of ${Object.keys(LEGS).join(', ')}`);
if (!process.env.DATABASE_URL) {
  throw new Error('pack-smoke: DATABASE_URL is not set; run it through scripts/with-postgres.ts');
}

const root = new URL('../', import.meta.url);
const work = mkdtempSync(join(tmpdir(), 'aitrail-pack-'));
const app = join(work, 'app');
const run = (cmd, args, cwd, env = {}) =>
  execFileSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
const node = (script, env) => run(process.execPath, [script], app, env);
const write = (name, text) => writeFileSync(join(app, name), text);
const check = (ok, message) => {
  if (!ok) throw new Error(`pack-smoke (${values.leg} leg, Node ${process.version}): ${message}`);
};

try {
  console.log(`leg ${values.leg} on Node ${process.version}`);
  const packed = JSON.parse(
    run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root),
  );
  const tarball = join(work, packed[0].filename);
  console.log(
    `packed ${packed[0].filename}: ${packed[0].files.length} files, ${packed[0].size} bytes`,
  );

  mkdirSync(app);
  write('package.json', JSON.stringify({ name: 'smoke-app', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', tarball, ...leg.otel, ...leg.extra], app);
  const apiCopies = run('npm', ['ls', '--all', '--parseable', '@opentelemetry/api'], app)
    .trim()
    .split('\n');
  check(apiCopies.length === 1, `expected one @opentelemetry/api, found ${apiCopies.join(', ')}`);
  console.log(`installed: one @opentelemetry/api, ${du(join(app, 'node_modules'))} node_modules`);

  recordsOneTrace();
  embeddedStoreWithoutDatabaseUrl();
  buildingBlocksInTheAppsOwnSdk();
  refusesAProviderRegisteredFirst();
  if (values.leg === 'main') {
    entryLoadsNoSdkOrDriver();
    commonJs();
    typesCompileEverywhere();
    drizzleKitLoadsTheSchema();
  }
  console.log(`pack smoke (${values.leg} leg) passed`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

function rowsOf(serviceName) {
  const rows = JSON.parse(
    run('npx', ['--no', 'aitrail', 'logs', '--format', 'json', '--limit', '1000'], app),
  );
  return rows.filter((row) => row.serviceName === serviceName);
}

function recordsOneTrace() {
  write(
    'record.mjs',
    `import { trace } from '@opentelemetry/api';
import { initAuditTelemetry, recordApproval, traceToolCall, withAuditContext } from 'aitrail';
const telemetry = await initAuditTelemetry({ serviceName: 'smoke-record', handleSignals: false });
const tracer = trace.getTracer('smoke-app');
const traceId = await tracer.startActiveSpan('POST /orders/lookup', async (span) => {
  if (!span.isRecording()) throw new Error("the app's own tracer is a no-op");
  await withAuditContext({ tenantId: 'acme', actor: { type: 'user', id: 'user_smoke' } }, async () => {
    await traceToolCall({ toolName: 'lookup_order', params: { orderId: 'ORD-1', password: 'hunter2' } }, async () => {
      tracer.startSpan('SELECT orders').end();
      return 'ok';
    });
    recordApproval({ approvalId: 'apr_1', status: 'approved', approver: { type: 'user', id: 'mgr_1' }, toolName: 'refund' });
  });
  span.end();
  return span.spanContext().traceId;
});
await telemetry.shutdown();
console.log(JSON.stringify({ traceId }));
`,
  );
  const { traceId } = JSON.parse(node('record.mjs').trim().split('\n').pop());
  const rows = rowsOf('smoke-record');
  const tool = rows.find((row) => row.toolName === 'lookup_order');
  check(tool?.actorId === 'user_smoke', `no tool-call row for user_smoke: ${JSON.stringify(rows)}`);
  check(rows.length >= 2, `expected the tool call and the approval, got ${rows.length} rows`);
  check(
    rows.every((row) => row.traceId === traceId),
    `rows are not in the app span's trace ${traceId}: ${rows.map((r) => r.traceId).join(', ')}`,
  );
  check(!JSON.stringify(rows).includes('hunter2'), 'a secret reached the audit table');
  console.log(`initAuditTelemetry: ${rows.length} audit rows in Postgres, all in trace ${traceId}`);
}

/** No DATABASE_URL: the app and the CLI both open the embedded store in AITRAIL_DATA_DIR. */
function embeddedStoreWithoutDatabaseUrl() {
  const dataDir = join(work, 'embedded-data');
  const env = { ...process.env, AITRAIL_DATA_DIR: dataDir };
  delete env.DATABASE_URL;
  const inApp = (cmd, args) =>
    execFileSync(cmd, args, {
      cwd: app,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  write(
    'embedded.mjs',
    `import { initAuditTelemetry, traceToolCall, withAuditContext } from 'aitrail';
const telemetry = await initAuditTelemetry({ serviceName: 'smoke-embedded', handleSignals: false });
await withAuditContext({ actor: { type: 'user', id: 'user_embedded' } }, () =>
  traceToolCall({ toolName: 'lookup_order', params: { orderId: 'ORD-2', password: 'hunter2' } }, async () => 'ok'),
);
await telemetry.shutdown();
`,
  );
  inApp(process.execPath, ['embedded.mjs']);
  const rows = JSON.parse(inApp('npx', ['--no', 'aitrail', 'logs', '--format', 'json']));
  const tool = rows.find((row) => row.toolName === 'lookup_order');
  check(
    tool?.actorId === 'user_embedded',
    `no tool-call row in the embedded store: ${JSON.stringify(rows)}`,
  );
  check(!JSON.stringify(rows).includes('hunter2'), 'a secret reached the embedded store');
  const verified = inApp('npx', ['--no', 'aitrail', 'verify']);
  const mode = statSync(dataDir).mode & 0o777;
  check(mode === 0o700, `the data directory is ${mode.toString(8)}, not 700`);
  console.log(
    `embedded store: ${rows.length} rows, aitrail verify: ${verified
      .trim()
      .split('\n')
      .filter((line) => !line.startsWith('note:'))
      .pop()}`,
  );
}

function buildingBlocksInTheAppsOwnSdk() {
  write(
    'compose.mjs',
    `import { trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import { traceToolCall } from 'aitrail';
import { AuditSampler, AuditSpanProcessor } from 'aitrail/sdk';
import { openAuditStore } from 'aitrail/store';
const store = await openAuditStore();
const processor = new AuditSpanProcessor({ store, serviceName: 'smoke-compose' });
const sdk = new NodeSDK({
  serviceName: 'smoke-compose',
  sampler: new AuditSampler({ root: new TraceIdRatioBasedSampler(0) }),
  spanProcessors: [processor],
  metricReaders: [],
  logRecordProcessors: [],
});
sdk.start();
await trace.getTracer('smoke-app').startActiveSpan('job', async (span) => {
  await traceToolCall({ toolName: 'compose_tool', actor: { type: 'service', id: 'worker' } }, async () => 1);
  span.end();
});
await processor.forceFlush();
await sdk.shutdown();
await store.close();
`,
  );
  node('compose.mjs');
  const rows = rowsOf('smoke-compose');
  check(
    rows.some((row) => row.toolName === 'compose_tool'),
    `the app's own NodeSDK with AuditSampler + AuditSpanProcessor recorded nothing: ${JSON.stringify(rows)}`,
  );
  console.log("building blocks in the app's own NodeSDK (ratio 0 sampler): the audit row is there");
}

function refusesAProviderRegisteredFirst() {
  write(
    'registered-first.mjs',
    `import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { initAuditTelemetry } from 'aitrail';
const sdk = new NodeSDK({
  serviceName: 'host',
  metricReaders: [],
  logRecordProcessors: [],
  spanProcessors: [new SimpleSpanProcessor({ exporter: new InMemorySpanExporter() })],
});
sdk.start();
try {
  await initAuditTelemetry({ serviceName: 'late', handleSignals: false });
  console.log('resolved');
} catch (error) {
  console.log(error.code);
}
await sdk.shutdown();
`,
  );
  const outcome = node('registered-first.mjs').trim().split('\n').pop();
  check(
    outcome === 'PROVIDER_ALREADY_REGISTERED',
    `initAuditTelemetry after another provider gave "${outcome}", not PROVIDER_ALREADY_REGISTERED`,
  );
  console.log('initAuditTelemetry after another provider: PROVIDER_ALREADY_REGISTERED');
}

function entryLoadsNoSdkOrDriver() {
  write(
    'entry-weight.mjs',
    `import { registerHooks } from 'node:module';
const loaded = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    const match = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(result.url);
    if (match) loaded.add(match[1]);
    return result;
  },
});
await import('aitrail');
console.log(JSON.stringify([...loaded]));
`,
  );
  const loaded = JSON.parse(node('entry-weight.mjs').trim().split('\n').pop());
  const heavy = loaded.filter((name) =>
    /^(@opentelemetry\/(sdk-|exporter-|resources|core)|@electric-sql\/pglite|drizzle-orm|postgres$)/.test(
      name,
    ),
  );
  check(heavy.length === 0, `import('aitrail') loaded ${heavy.join(', ')}`);
  console.log(`import('aitrail') loads only ${loaded.join(', ')}`);
}

function commonJs() {
  write(
    'record.cjs',
    `const { initAuditTelemetry, traceToolCall } = require('aitrail');
const { auditLogs } = require('aitrail/schema');
const { queryAuditLogs } = require('aitrail/store');
(async () => {
  const telemetry = await initAuditTelemetry({ serviceName: 'smoke-cjs', handleSignals: false });
  await traceToolCall({ toolName: 'cjs_tool', actor: { type: 'service', id: 'cjs' } }, async () => 1);
  await telemetry.flush();
  const rows = (await queryAuditLogs(telemetry.store, { actorId: 'cjs' })).filter((r) => r.toolName === 'cjs_tool');
  await telemetry.shutdown();
  if (rows.length !== 1 || auditLogs.eventId.name !== 'event_id') process.exit(1);
  console.log('ok');
})();
`,
  );
  check(node('record.cjs').trim().endsWith('ok'), 'require("aitrail") did not record');
  console.log("require('aitrail'), require('aitrail/schema'), require('aitrail/store'): ok");
}

function typesCompileEverywhere() {
  const tsc = join(app, 'node_modules/typescript/bin/tsc');
  const source = `import { AI_AUDIT_ACTIONS, initAuditTelemetry, traceToolCall } from 'aitrail';
import { AuditSampler } from 'aitrail/sdk';
import { type AuditLogEntry, queryAuditLogs } from 'aitrail/store';
import { instrumentOpenAIAgents } from 'aitrail/openai-agents';
export async function main(): Promise<number> {
  const telemetry = await initAuditTelemetry({ serviceName: 'typed', captureContent: 'none' });
  const result: number = await traceToolCall({ toolName: 'sum', params: { a: 1 } }, () => 1 + 1);
  const rows: AuditLogEntry[] = await queryAuditLogs(telemetry.store, { action: AI_AUDIT_ACTIONS.TOOL_CALL });
  void new AuditSampler({});
  void instrumentOpenAIAgents;
  await telemetry.shutdown();
  return result + rows.length;
}
`;
  const projects = [
    ['nodenext-esm', 'module', { module: 'nodenext', moduleResolution: 'nodenext' }],
    ['nodenext-cjs', 'commonjs', { module: 'nodenext', moduleResolution: 'nodenext' }],
    ['node16-esm', 'module', { module: 'node16', moduleResolution: 'node16' }],
    ['node16-cjs', 'commonjs', { module: 'node16', moduleResolution: 'node16' }],
    ['bundler', 'module', { module: 'preserve', moduleResolution: 'bundler' }],
  ];
  // aitrail/schema is drizzle tables: its types are drizzle-orm's, whose own declarations need
  // skipLibCheck (they import gel, mysql2, ... which a Postgres app does not install).
  const schemaDir = join(app, 'schema-types');
  mkdirSync(schemaDir);
  writeFileSync(
    join(schemaDir, 'package.json'),
    JSON.stringify({ private: true, type: 'commonjs' }),
  );
  writeFileSync(
    join(schemaDir, 'schema.ts'),
    "import { auditLogs } from 'aitrail/schema';\nexport const column: string = auditLogs.eventId.name;\n",
  );
  writeFileSync(
    join(schemaDir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        skipLibCheck: true,
        noEmit: true,
        types: [],
      },
      files: ['schema.ts'],
    }),
  );
  run(process.execPath, [tsc, '-p', 'tsconfig.json'], schemaDir);
  for (const [name, type, options] of projects) {
    const dir = join(app, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type }));
    writeFileSync(join(dir, 'typed.ts'), source);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'es2022',
          skipLibCheck: false,
          types: ['node'],
          outDir: 'out',
          ...options,
        },
        files: ['typed.ts'],
      }),
    );
    run(
      process.execPath,
      [tsc, '-p', 'tsconfig.json', ...(name === 'bundler' ? ['--noEmit'] : [])],
      dir,
    );
  }
  // The CommonJS project also runs: its compiled require() calls must load the package.
  writeFileSync(
    join(app, 'nodenext-cjs/run.cjs'),
    "require('./out/typed.js').main().then((n) => { if (typeof n !== 'number') process.exit(1); console.log('ok'); });",
  );
  check(
    run(process.execPath, ['run.cjs'], join(app, 'nodenext-cjs')).trim().endsWith('ok'),
    'the compiled CommonJS TypeScript project did not run',
  );
  console.log(
    'types: nodenext/node16 ESM and CJS, bundler, without skipLibCheck (aitrail/schema: drizzle types, with it); the CJS build runs',
  );
}

function drizzleKitLoadsTheSchema() {
  write(
    'drizzle.config.ts',
    `import { defineConfig } from 'drizzle-kit';
export default defineConfig({ dialect: 'postgresql', schema: './schema.ts', out: './drizzle' });
`,
  );
  write(
    'schema.ts',
    `import { pgTable, text } from 'drizzle-orm/pg-core';
export * from 'aitrail/schema';
export const orders = pgTable('orders', { id: text('id').primaryKey() });
`,
  );
  const out = run('npx', ['--no', 'drizzle-kit', 'generate', '--name', 'host'], app);
  const sql = run('sh', ['-c', 'cat drizzle/*.sql'], app);
  check(
    sql.includes('"audit_logs"') && sql.includes('"orders"'),
    `drizzle-kit did not load aitrail/schema: ${out}`,
  );
  console.log('drizzle-kit generate loaded aitrail/schema beside the host tables');
}

function du(path) {
  return run('du', ['-sh', path], app).split('\t')[0];
}
