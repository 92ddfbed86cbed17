import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  context,
  type ProxyTracerProvider,
  propagation,
  type SpanContext,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  initAuditTelemetry,
  recordApproval,
  recordAuditEvent,
  recordHandoff,
  recordTaskQueued,
  traceChat,
  traceTask,
  traceToolCall,
} from '../src/index.js';
import { createAuditPipeline } from '../src/pipeline/audit-pipeline.js';
import { createRedactor } from '../src/sanitize/index.js';
import { openAuditStore } from '../src/store/open-store.js';
import { runTs } from './support/cli.js';
import { normalizeTrace, type OtlpReceiver, startOtlpReceiver } from './support/otlp-receiver.js';
import { testDatabaseUrl } from './support/postgres.js';
import { benignCorpus, type Planted, plantedCorpus } from './support/privacy-corpus.js';
import { scratchDir } from './support/stores.js';

/**
 * The corpus through every entry point, end to end: the planted values must reach neither a
 * table of the database nor the bytes an OTLP receiver gets, whoever set the pipeline up; the
 * benign look-alikes must come out as they went in.
 */

const planted = plantedCorpus();
const benign = benignCorpus();
/** A value no detector touches: how often it shows up is how often an untouched value must. */
const CONTROL = 'control zqxjvkwp noted';
const actor = { type: 'user', id: 'corpus-user' } as const;
const approver = { type: 'user', id: 'corpus-approver' } as const;
/** A span some third-party span links to (links carry attributes of their own). */
const LINKED: SpanContext = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: 1,
};

/** The forms a planted value must not take in a sink: as planted, and percent-decoded. */
function forms(p: Planted): string[] {
  let decoded = p.secret;
  try {
    decoded = decodeURIComponent(p.secret);
  } catch {}
  return decoded === p.secret ? [p.secret] : [p.secret, decoded];
}

/**
 * Drives one value through every entry point a value can take into aitrail: helper options (tool
 * params and result, chat content and completion, reasons, metadata, ids, agent names), thrown
 * errors, an action string, an app span carrying `audit.action`, a third-party span (name,
 * attributes, an argument list, events, links, exception, status, scope) and third-party GenAI
 * spans (gen_ai.* attributes and message content).
 */
async function driveEntryPoints(text: string, index: number): Promise<void> {
  const words = text.split(' ');
  // A scope per value (the version tells repeated values apart): OTLP writes a scope once per group.
  const scopeVersion = `1.0.${index}`;
  await traceToolCall(
    {
      toolName: 'lookup',
      toolCallId: text,
      conversationId: text,
      agentName: text,
      actor,
      params: { query: text, argv: words },
    },
    () => ({ answer: text }),
  );
  await traceToolCall({ toolName: 'failing', actor }, () => {
    throw new Error(`failed with ${text}`);
  }).catch(() => {});
  await traceChat({ model: 'gpt-test', content: text, conversationId: text, actor }, (chat) =>
    chat.setCompletion(text),
  );
  recordApproval({
    status: 'rejected',
    approver,
    approvalId: text,
    toolName: 'refund',
    params: { note: text },
    reason: text,
    actor,
  });
  recordAuditEvent({
    action: 'corpus.checked',
    reason: text,
    resourceType: text,
    resourceId: text,
    metadata: { detail: text, nested: { list: [text] }, [`key ${text}`]: true },
    actor,
  });
  // An action that is not a name is refused by the helper; a span may still carry one.
  try {
    recordAuditEvent({ action: `corpus.${text}`, actor });
  } catch {}
  trace
    .getTracer('app')
    .startSpan('app.audited', {
      attributes: { 'audit.action': text, 'audit.actor.id': actor.id, 'audit.reason': text },
    })
    .end();
  recordHandoff({ fromAgent: text, toAgent: text, reason: text, actor });
  recordTaskQueued({ taskId: text, taskName: text, actor });
  await traceTask({ taskId: text, taskName: text, actor }, () => {
    throw new Error(text);
  }).catch(() => {});

  trace.getTracer(`vendor-sdk ${text}`, scopeVersion).startActiveSpan(
    `vendor ${text}`,
    {
      attributes: {
        'vendor.note': text,
        [`vendor.key ${text}`]: 1,
        'vendor.args': words,
        'url.full': `https://api.vendor.test/v1/items?q=${encodeURIComponent(text)}`,
      },
      links: [{ context: LINKED, attributes: { 'link.note': text } }],
    },
    (span) => {
      span.addEvent(`vendor event ${text}`, { 'event.detail': text });
      span.recordException(new Error(`vendor failed: ${text}`));
      span.setStatus({ code: SpanStatusCode.ERROR, message: text });
      span.end();
    },
  );
  const genAi = trace.getTracer(`genai-sdk ${text}`, scopeVersion);
  genAi
    .startSpan('chat gpt-4o', {
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.conversation.id': text,
        'gen_ai.agent.name': text,
        'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: text }]),
        'gen_ai.input.messages': JSON.stringify([
          { role: 'user', parts: [{ type: 'text', content: text }] },
        ]),
        'gen_ai.output.messages': JSON.stringify([
          { role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: 'stop' },
        ]),
      },
    })
    .end();
  genAi
    .startSpan('execute_tool lookup', {
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'lookup',
        'gen_ai.tool.call.id': text,
        'gen_ai.tool.call.arguments': JSON.stringify({ query: text }),
        'gen_ai.tool.call.result': JSON.stringify({ answer: text }),
      },
    })
    .end();
}

/** Flushes every span processor of the registered tracer provider (audit rows and exports). */
async function flushTracerProvider(): Promise<void> {
  const provider = trace.getTracerProvider() as ProxyTracerProvider;
  await (provider.getDelegate() as unknown as { forceFlush(): Promise<void> }).forceFlush();
}

/** Every value in turn: each planted and benign value, and the control. */
async function driveCorpus(): Promise<void> {
  const values = [CONTROL, ...benign.map((b) => b.text), ...planted.map((p) => p.text)];
  for (const [index, value] of values.entries()) {
    await driveEntryPoints(value, index);
    // Flush now and then, whoever set the SDK up: its batch processor holds 2048 spans at most.
    if (index % 50 === 49) await flushTracerProvider();
  }
}

/**
 * Resource attributes from `OTEL_RESOURCE_ATTRIBUTES`, one per value (each percent-encoded, as
 * the variable requires), and a command line: benign values and the control as single arguments,
 * then each planted text split into arguments the way a shell splits it (`--api-token`, `<v>`).
 * The process detector reads `process.argv` when the SDK starts, as it would in a process
 * started with that command line.
 */
function withResourceAndCommandLine<T>(start: () => Promise<T>): Promise<T> {
  const savedArgv = process.argv;
  const savedResource = process.env.OTEL_RESOURCE_ATTRIBUTES;
  const values = [CONTROL, ...benign.map((b) => b.text), ...planted.map((p) => p.text)];
  process.env.OTEL_RESOURCE_ATTRIBUTES = values
    .map((value, index) => `corpus.value.${index}=${encodeURIComponent(value)}`)
    .join(',');
  process.argv = [
    ...savedArgv.slice(0, 2),
    CONTROL,
    ...benign.map((b) => b.text),
    ...planted.flatMap((p) => p.text.split(' ')),
  ];
  return start().finally(() => {
    process.argv = savedArgv;
    if (savedResource === undefined) delete process.env.OTEL_RESOURCE_ATTRIBUTES;
    else process.env.OTEL_RESOURCE_ATTRIBUTES = savedResource;
  });
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Every row of every table in the database (the vault and checkpoints included). */
interface DatabaseDump {
  /** Each row as Postgres prints it, under a `-- schema.table` line per table. */
  text: string;
  /** Each row as JSON, by table (partitions count as their table). */
  rows: Array<{ table: string; row: Record<string, unknown> }>;
}

async function dumpDatabase(url: string): Promise<DatabaseDump> {
  const sql = postgres(url, { onnotice: () => {}, max: 1 });
  try {
    const tables = await sql<{ schema: string; name: string }[]>`
      select n.nspname as schema, c.relname as name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg_toast%'`;
    const text: string[] = [];
    const rows: DatabaseDump['rows'] = [];
    for (const { schema, name } of tables) {
      const found = await sql.unsafe<{ text: string; row: Record<string, unknown> }[]>(
        `select t::text as text, to_jsonb(t) as row
         from ${quoteIdentifier(schema)}.${quoteIdentifier(name)} t`,
      );
      text.push(`-- ${schema}.${name}`, ...found.map((r) => r.text));
      const table = name.replace(/_p\d{4}_\d{2}$/, '');
      for (const { row } of found) rows.push({ table, row });
    }
    return { text: text.join('\n'), rows };
  } finally {
    await sql.end();
  }
}

/** Every string in `value`, with the path that leads to it (array indexes left out). */
function* stringsWithPaths(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') {
    yield [path, value];
  } else if (Array.isArray(value)) {
    for (const item of value) yield* stringsWithPaths(item, path);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      yield* stringsWithPaths(item, path === '' ? key : `${path}.${key}`);
    }
  }
}

/**
 * Where in the database `needle` was written: `table.column`, and the key path inside a jsonb
 * column (`audit_personal_data.personal.toolParams.query`).
 */
function databasePlaces(dump: DatabaseDump, needle: string): string[] {
  const places = new Set<string>();
  for (const { table, row } of dump.rows) {
    for (const [path, text] of stringsWithPaths(row, table)) {
      if (text.includes(needle)) places.add(path);
    }
  }
  return [...places].sort();
}

/**
 * Where in the exported spans `needle` was found: `resource.<key>`, `scope.name`, `span.name`,
 * `span.<attribute>`, `event.name`, `event.<attribute>`, `link.<attribute>`, `status.message`.
 */
function otlpPlaces(requests: readonly unknown[], needle: string): string[] {
  const places = new Set<string>();
  const note = (where: string, value: unknown) => {
    for (const [path, text] of stringsWithPaths(value, where)) {
      if (text.includes(needle)) places.add(path);
    }
  };
  for (const request of requests) {
    for (const resourceSpans of normalizeTrace(request).resourceSpans ?? []) {
      note('resource', resourceSpans.resource?.attributes);
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        note('scope', scopeSpans.scope);
        for (const span of scopeSpans.spans ?? []) {
          note('span.name', span.name);
          note('span', span.attributes);
          note('status.message', span.status?.message);
          for (const event of span.events ?? []) {
            note('event.name', event.name);
            note('event', event.attributes);
          }
          for (const link of span.links ?? []) note('link', link.attributes);
        }
      }
    }
  }
  return [...places].sort();
}

/** Every place an entry point writes a value to, in each sink: what the control must reach. */
const DATABASE_PLACES = [
  'audit_logs.action',
  'audit_logs.agent_name',
  'audit_logs.approval_id',
  'audit_logs.conversation_id',
  'audit_logs.metadata.handoffFrom',
  'audit_logs.metadata.handoffTo',
  'audit_logs.metadata.instrumentationScope',
  'audit_logs.metadata.spanName',
  'audit_logs.metadata.taskName',
  'audit_logs.metadata.toolCallId',
  'audit_logs.resource_id',
  'audit_logs.resource_type',
  'audit_logs.task_id',
  'audit_personal_data.personal.completion.content',
  'audit_personal_data.personal.completion.parts.content',
  'audit_personal_data.personal.content.content',
  'audit_personal_data.personal.content.parts.content',
  'audit_personal_data.personal.detail',
  'audit_personal_data.personal.error.message',
  'audit_personal_data.personal.nested.list',
  'audit_personal_data.personal.reason',
  'audit_personal_data.personal.toolParams.note',
  'audit_personal_data.personal.toolParams.query',
  'audit_personal_data.personal.toolResult.answer',
];
const OTLP_PLACES = [
  'event.event.detail',
  'event.exception.message',
  'event.exception.stacktrace',
  'event.name',
  'link.link.note',
  'resource.corpus.value.0',
  'resource.process.command_args',
  'scope.name',
  'span.audit.action',
  'span.audit.approval.id',
  'span.audit.handoff.from',
  'span.audit.handoff.to',
  'span.audit.metadata',
  'span.audit.reason',
  'span.audit.resource.id',
  'span.audit.resource.type',
  'span.audit.task.id',
  'span.audit.task.name',
  'span.gen_ai.agent.name',
  'span.gen_ai.conversation.id',
  'span.gen_ai.input.messages',
  'span.gen_ai.output.messages',
  'span.gen_ai.system_instructions',
  'span.gen_ai.tool.call.arguments',
  'span.gen_ai.tool.call.id',
  'span.gen_ai.tool.call.result',
  'span.name',
  'span.vendor.note',
  'status.message',
];

/** What the receiver got: the raw bodies as sent and the decoded spans, as one text. */
function otlpText(receiver: OtlpReceiver): string {
  const { httpRequests, traceRequests } = receiver.received;
  return [
    ...httpRequests.map((r) => r.body.toString('utf8')),
    JSON.stringify(traceRequests.map((request) => normalizeTrace(request))),
  ].join('\n');
}

/**
 * How often each needle occurs in `haystack`, in one pass (a regex alternation scans megabytes
 * far faster than one search per needle). Matches may overlap; at one position the longest
 * needle wins, so a needle found only inside a longer one is counted with it.
 */
function occurrences(haystack: string, needles: readonly string[]): Map<string, number> {
  const distinct = [...new Set(needles)].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(
    distinct.map((needle) => needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'),
    'g',
  );
  const counts = new Map<string, number>(distinct.map((needle) => [needle, 0]));
  for (let match = pattern.exec(haystack); match !== null; match = pattern.exec(haystack)) {
    counts.set(match[0], (counts.get(match[0]) ?? 0) + 1);
    pattern.lastIndex = match.index + 1;
  }
  return counts;
}

/** One sink's verdict on the corpus. */
interface SinkFigures {
  leaks: Planted[];
  /** Where each leak was found: the table, and the text around its first occurrence. */
  leakContexts: string[];
  /** Benign values that show up fewer times than the control does (some copy was altered). */
  altered: Array<{ kind: string; text: string }>;
  /** Where the control value was written: every entry point it went through. */
  controlPlaces: string[];
}

function measure(text: string, controlPlaces: string[]): SinkFigures {
  const found = occurrences(text, planted.flatMap(forms));
  const leaks = planted.filter((p) => forms(p).some((form) => (found.get(form) ?? 0) > 0));
  const leakContexts = leaks.map((p) => {
    const form = forms(p).find((f) => text.includes(f)) as string;
    const at = text.indexOf(form);
    const table = text.lastIndexOf('\n-- ', at);
    const where = table === -1 ? '' : `${text.slice(table + 1, text.indexOf('\n', table + 1))} `;
    return `${p.kind}: ${where}${JSON.stringify(text.slice(Math.max(0, at - 120), at + form.length + 40))}`;
  });
  const counts = occurrences(text, [CONTROL, ...benign.map((b) => b.text)]);
  const control = counts.get(CONTROL) ?? 0;
  const multiplicity = new Map<string, number>();
  for (const b of benign) multiplicity.set(b.text, (multiplicity.get(b.text) ?? 0) + 1);
  const altered = benign.filter(
    (b) => (counts.get(b.text) ?? 0) < control * (multiplicity.get(b.text) ?? 1),
  );
  return { leaks, leakContexts, altered, controlPlaces };
}

interface ModeRun {
  database: SinkFigures;
  otlp: SinkFigures;
  resourceAttributes: Record<string, unknown>;
  /** Exported spans by name, for telling that nothing was dropped on the way. */
  exportedNames: Map<string, number>;
  /** How the requests were encoded (`application/json`, `application/x-protobuf`). */
  contentTypes: string[];
}

function exportedNames(requests: readonly unknown[]): Map<string, number> {
  const names = new Map<string, number>();
  for (const request of requests) {
    for (const resourceSpans of normalizeTrace(request).resourceSpans ?? []) {
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          names.set(span.name, (names.get(span.name) ?? 0) + 1);
        }
      }
    }
  }
  return names;
}

async function measureRun(receiver: OtlpReceiver, databaseUrl: string): Promise<ModeRun> {
  const dump = await dumpDatabase(databaseUrl);
  const requests = receiver.received.traceRequests;
  return {
    database: measure(dump.text, databasePlaces(dump, CONTROL)),
    otlp: measure(otlpText(receiver), otlpPlaces(requests, CONTROL)),
    resourceAttributes: normalizeTrace(requests[0]).resourceSpans?.[0]?.resource?.attributes ?? {},
    exportedNames: exportedNames(requests),
    contentTypes: [...new Set(receiver.received.httpRequests.map((r) => r.contentType))],
  };
}

const runs = new Map<string, ModeRun>();
let receiver: OtlpReceiver;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});

afterAll(async () => {
  await receiver?.close();
});

/**
 * One pipeline set up one way, the whole corpus through it, then what each sink holds. `start`
 * sets the pipeline up against the database and the receiver and returns how to stop it.
 */
function corpusRun(
  mode: string,
  contentType: string,
  start: (databaseUrl: string) => Promise<() => Promise<void>>,
) {
  beforeAll(async () => {
    receiver.reset();
    const databaseUrl = await testDatabaseUrl();
    const stop = await withResourceAndCommandLine(() => start(databaseUrl));
    try {
      await driveCorpus();
    } finally {
      await stop();
    }
    runs.set(mode, await measureRun(receiver, databaseUrl));
  });

  it('every entry point reached both sinks, and every span the exporter', () => {
    const run = runs.get(mode) as ModeRun;
    expect(run.contentTypes).toEqual([contentType]);
    expect(run.database.controlPlaces).toEqual(expect.arrayContaining(DATABASE_PLACES));
    expect(run.otlp.controlPlaces).toEqual(expect.arrayContaining(OTLP_PLACES));
    const values = 1 + benign.length + planted.length;
    expect(run.exportedNames.get('chat gpt-4o')).toBe(values);
    expect(run.exportedNames.get('execute_tool lookup')).toBe(values * 2);
    const resource = run.resourceAttributes;
    expect(Object.keys(resource).filter((key) => key.startsWith('corpus.value.'))).toHaveLength(
      values,
    );
    expect((resource['process.command_args'] as unknown[]).length).toBeGreaterThan(values);
  });

  it('no planted value in any table, nor in the OTLP bodies or the spans decoded from them', () => {
    const run = runs.get(mode) as ModeRun;
    expect({ database: run.database.leakContexts, otlp: run.otlp.leakContexts }).toEqual({
      database: [],
      otlp: [],
    });
  });

  it('benign look-alikes come out unchanged: false positives at most 2% in each sink', () => {
    const run = runs.get(mode) as ModeRun;
    for (const [sink, figures] of [
      ['database', run.database],
      ['OTLP', run.otlp],
    ] as const) {
      expect(
        figures.altered.length / benign.length,
        `benign values altered in the ${sink}: ${figures.altered.map((b) => b.text).join(' | ')}`,
      ).toBeLessThanOrEqual(0.02);
    }
  });
}

describe('privacy corpus end to end: a pipeline from initAuditTelemetry, Postgres and OTLP/HTTP (JSON)', () => {
  corpusRun('initAuditTelemetry', 'application/json', async (databaseUrl) => {
    const dataDir = scratchDir();
    const telemetry = await initAuditTelemetry({
      otlpEndpoint: receiver.endpoint,
      databaseUrl,
      dataDir,
      serviceName: 'corpus-init',
      handleSignals: false,
    });
    return async () => {
      // Shutdown drains the writer and the exporter's batch processor.
      await telemetry.shutdown();
      rmSync(dataDir, { recursive: true, force: true });
    };
  });
});

describe("privacy corpus end to end: the app's own NodeSDK with the pipeline's parts, Postgres and OTLP/HTTP (protobuf)", () => {
  corpusRun('hand-built', 'application/x-protobuf', async (databaseUrl) => {
    const dataDir = scratchDir();
    const store = await openAuditStore({ databaseUrl, dataDir });
    const pipeline = createAuditPipeline();
    const unregister = pipeline.register();
    const sdk = new NodeSDK({
      serviceName: 'corpus-hand-built',
      sampler: pipeline.sampler(),
      spanProcessors: [
        pipeline.spanProcessor({ store, serviceName: 'corpus-hand-built' }),
        new BatchSpanProcessor({
          exporter: pipeline.exporter(
            new OTLPTraceExporter({ url: `${receiver.endpoint}/v1/traces` }),
          ),
        }),
      ],
    });
    sdk.start();
    return async () => {
      await sdk.shutdown();
      // NodeSDK leaves its globals registered after shutdown; the next set-up needs them free.
      trace.disable();
      context.disable();
      propagation.disable();
      unregister();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    };
  });
});

describe('privacy corpus end to end: a child process started with the planted values in its argv', () => {
  it("exports its command line (process.command_args) without them, read from the real process's argv", async () => {
    receiver.reset();
    const dataDir = scratchDir();
    const argv = planted.flatMap((p) => p.text.split(' '));
    const child = await runTs('tests/fixtures/emit-events.ts', [CONTROL, ...argv], {
      env: {
        DATABASE_URL: await testDatabaseUrl(),
        AITRAIL_DATA_DIR: dataDir,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        EMIT_COUNT: '1',
      },
    });
    rmSync(dataDir, { recursive: true, force: true });
    expect(child.code, child.stderr).toBe(0);
    const requests = receiver.received.traceRequests;
    const commandLine = normalizeTrace(requests[0]).resourceSpans?.[0]?.resource?.attributes?.[
      'process.command_args'
    ] as string[];
    expect(commandLine).toContain(CONTROL);
    expect(commandLine).toContain('--api-token');
    expect(measure(otlpText(receiver), []).leakContexts).toEqual([]);
  });
});

describe("privacy corpus end to end: initAuditTelemetry's metric readers", () => {
  it('get the resource (OTEL_RESOURCE_ATTRIBUTES, the command line) without the planted values', async () => {
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      exportIntervalMillis: 3_600_000,
    });
    const dataDir = scratchDir();
    const telemetry = await withResourceAndCommandLine(async () =>
      initAuditTelemetry({
        databaseUrl: await testDatabaseUrl(),
        dataDir,
        serviceName: 'corpus-metrics',
        metricReaders: [reader],
        handleSignals: false,
      }),
    );
    let resource: Record<string, unknown>;
    try {
      resource = (await reader.collect()).resourceMetrics.resource.attributes;
    } finally {
      await telemetry.shutdown();
      rmSync(dataDir, { recursive: true, force: true });
    }
    expect(resource['corpus.value.0']).toBe(CONTROL);
    expect(resource['process.command_args']).toContain(CONTROL);
    expect(measure(JSON.stringify(resource), []).leakContexts).toEqual([]);
  });
});

const FIGURES_START = '<!-- figures:start -->';
const FIGURES_END = '<!-- figures:end -->';

describe('figures', () => {
  it('writes recall and false-positive rate per sink into docs/privacy.md', () => {
    const init = runs.get('initAuditTelemetry');
    const handBuilt = runs.get('hand-built');
    expect(init && handBuilt, 'both runs finished').toBeTruthy();
    const redactor = createRedactor();
    const redactorLeaks = planted.filter((p) => redactor.redactText(p.text).includes(p.secret));
    const redactorAltered = benign.filter((b) => redactor.redactText(b.text) !== b.text);
    const percent = (count: number, total: number) =>
      `${((100 * count) / total).toFixed(1)}% (${count}/${total})`;
    const row = (name: string, leaks: number, altered: number) =>
      `| ${name} | ${percent(planted.length - leaks, planted.length)} | ${percent(altered, benign.length)} |`;
    const sinks = [
      row('`redactText` alone', redactorLeaks.length, redactorAltered.length),
      ...(
        [
          ['`initAuditTelemetry`', init],
          ['hand-built NodeSDK', handBuilt],
        ] as const
      ).flatMap(([name, run]) => [
        row(
          `${name} → Postgres (every table)`,
          run?.database.leaks.length ?? planted.length,
          run?.database.altered.length ?? benign.length,
        ),
        row(
          `${name} → OTLP (raw bodies and decoded spans)`,
          run?.otlp.leaks.length ?? planted.length,
          run?.otlp.altered.length ?? benign.length,
        ),
      ]),
    ];
    const kinds = new Set(planted.map((p) => p.kind)).size;
    const figures = [
      FIGURES_START,
      `Generated by \`tests/privacy-corpus-sinks.test.ts\` on every run (default policy): ${planted.length} planted values of ${kinds} kinds and ${benign.length} benign look-alikes (order ids, UUIDs, hashes, prices, versions, timestamps, model names, loopback URLs, documentation addresses), each driven through every entry point listed below.`,
      '',
      '| where | recall (planted values kept out) | false positives (benign values altered) |',
      '| --- | --- | --- |',
      ...sinks,
      FIGURES_END,
    ].join('\n');
    const path = join(import.meta.dirname, '..', 'docs', 'privacy.md');
    const doc = readFileSync(path, 'utf8');
    const start = doc.indexOf(FIGURES_START);
    const end = doc.indexOf(FIGURES_END);
    expect(start, 'docs/privacy.md has the figures markers').toBeGreaterThanOrEqual(0);
    const updated = doc.slice(0, start) + figures + doc.slice(end + FIGURES_END.length);
    if (updated !== doc) writeFileSync(path, updated);
  });
});
