import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AUDIT_ATTRS, GEN_AI_ATTRS } from '../src/attributes.js';

// No collector binary runs here, so these tests check the configs the way the collector
// would read them: component ids, pipeline order, endpoints and the redaction patterns.

/** The otelcol-contrib release the configs are written for. */
const COLLECTOR_VERSION = '0.159.0';

/**
 * Component types that exist in otelcol-contrib 0.159.0, limited to the kinds of component
 * this project uses or is likely to add (from the release's contrib manifest).
 */
const VALID_TYPES: Record<ComponentKind, readonly string[]> = {
  receivers: ['otlp'],
  processors: [
    'memory_limiter',
    'redaction',
    'tail_sampling',
    'batch',
    'attributes',
    'filter',
    'resource',
    'transform',
  ],
  exporters: ['otlp_grpc', 'otlp_http', 'debug', 'load_balancing', 'nop'],
  extensions: ['health_check', 'pprof', 'zpages'],
  connectors: ['forward'],
};

/**
 * Names that are gone, or only deprecated aliases, by 0.159.0: `logging` was removed (use
 * `debug`); the OTLP exporters were renamed in 0.144 and `loadbalancing` in 0.153.
 */
const RETIRED_TYPES: Record<ComponentKind, readonly string[]> = {
  receivers: [],
  processors: [],
  exporters: ['logging', 'otlp', 'otlphttp', 'loadbalancing'],
  extensions: [],
  connectors: [],
};

type ComponentKind = 'receivers' | 'processors' | 'exporters' | 'extensions' | 'connectors';
const COMPONENT_KINDS: readonly ComponentKind[] = [
  'receivers',
  'processors',
  'exporters',
  'extensions',
  'connectors',
];

interface Pipeline {
  receivers: string[];
  processors?: string[];
  exporters: string[];
}

interface CollectorConfig {
  receivers?: Record<string, Record<string, unknown> | null>;
  processors?: Record<string, Record<string, unknown> | null>;
  exporters?: Record<string, Record<string, unknown> | null>;
  extensions?: Record<string, Record<string, unknown> | null>;
  connectors?: Record<string, Record<string, unknown> | null>;
  service: {
    extensions?: string[];
    telemetry?: { metrics?: Record<string, unknown> };
    pipelines: Record<string, Pipeline>;
  };
}

interface RedactionConfig {
  allow_all_keys?: boolean;
  blocked_key_patterns: string[];
  blocked_values: string[];
  summary?: string;
}

interface SamplingPolicy {
  name: string;
  type: string;
  ottl_condition?: { error_mode?: string; span?: string[]; spanevent?: string[] };
  status_code?: { status_codes: string[] };
  latency?: { threshold_ms: number };
  probabilistic?: { sampling_percentage: number };
}

function readRepoFile(path: string): string {
  return readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
}

function loadConfig(path: string): CollectorConfig {
  return parse(readRepoFile(path)) as CollectorConfig;
}

/** `otlp_grpc/jaeger` → `otlp_grpc`. */
function typeOf(componentId: string): string {
  return componentId.split('/')[0] ?? componentId;
}

function pipelineComponents(config: CollectorConfig, kind: keyof Pipeline): string[] {
  return Object.values(config.service.pipelines).flatMap((pipeline) => pipeline[kind] ?? []);
}

function componentSection(config: CollectorConfig, id: string, kind: ComponentKind) {
  const section = config[kind] ?? {};
  expect(Object.keys(section), `${kind} defines ${id}`).toContain(id);
  return section[id] ?? {};
}

function redactionOf(config: CollectorConfig): RedactionConfig {
  return componentSection(config, 'redaction', 'processors') as unknown as RedactionConfig;
}

function policiesOf(config: CollectorConfig): SamplingPolicy[] {
  const tailSampling = componentSection(config, 'tail_sampling', 'processors');
  return (tailSampling as { policies: SamplingPolicy[] }).policies;
}

/**
 * Compiles a Go RE2 pattern as a JavaScript RegExp. RE2 writes flags inline (`(?i)`), which
 * Node 20 cannot parse, so a leading flag group becomes RegExp flags; any other RE2-only
 * syntax fails the test instead of being silently reinterpreted.
 */
function compileRe2(pattern: string): RegExp {
  const leadingFlags = /^\(\?([a-z]+)\)/.exec(pattern);
  const flags = leadingFlags?.[1] ?? '';
  const body = leadingFlags ? pattern.slice(leadingFlags[0].length) : pattern;
  if (!/^[i]*$/.test(flags) || /\(\?[a-zP]/.test(body)) {
    throw new Error(`RE2 syntax without a JavaScript equivalent in: ${pattern}`);
  }
  return new RegExp(body, flags);
}

const MAIN_CONFIG = 'otel-collector-config.yaml';
const LOADBALANCER_CONFIG = 'collector/gateway/loadbalancer.yaml';
const TAIL_SAMPLING_CONFIG = 'collector/gateway/tail-sampling.yaml';
const ALL_CONFIGS = [MAIN_CONFIG, LOADBALANCER_CONFIG, TAIL_SAMPLING_CONFIG];
const SAMPLING_CONFIGS = [MAIN_CONFIG, TAIL_SAMPLING_CONFIG];

describe.each(ALL_CONFIGS)('collector config %s', (path) => {
  const config = loadConfig(path);

  it('defines every receiver, processor and exporter its pipelines use', () => {
    const kinds = ['receivers', 'processors', 'exporters'] as const;
    for (const kind of kinds) {
      const defined = Object.keys(config[kind] ?? {});
      for (const id of pipelineComponents(config, kind)) {
        expect(defined, `${kind}.${id}`).toContain(id);
      }
    }
  });

  it('defines every extension the service enables', () => {
    const defined = Object.keys(config.extensions ?? {});
    for (const id of config.service.extensions ?? []) {
      expect(defined).toContain(id);
    }
  });

  it('binds every receiver endpoint to 0.0.0.0', () => {
    const endpoints = JSON.stringify(config.receivers).match(/"endpoint":"[^"]*"/g) ?? [];
    expect(endpoints.length).toBeGreaterThan(0);
    for (const endpoint of endpoints) {
      expect(endpoint).toMatch(/"endpoint":"0\.0\.0\.0:\d+"/);
    }
  });

  it('serves the health check on 0.0.0.0:13133', () => {
    expect(config.service.extensions).toContain('health_check');
    expect(componentSection(config, 'health_check', 'extensions')).toMatchObject({
      endpoint: '0.0.0.0:13133',
    });
  });

  it('runs memory_limiter first in every pipeline', () => {
    for (const pipeline of Object.values(config.service.pipelines)) {
      expect(pipeline.processors?.[0]).toBe('memory_limiter');
    }
  });

  it('batches last, and only after tail sampling', () => {
    for (const pipeline of Object.values(config.service.pipelines)) {
      const processors = pipeline.processors ?? [];
      const batch = processors.findIndex((id) => typeOf(id) === 'batch');
      const sampling = processors.findIndex((id) => typeOf(id) === 'tail_sampling');
      if (batch >= 0) expect(batch).toBe(processors.length - 1);
      if (sampling >= 0) expect(batch).toBeGreaterThan(sampling);
    }
  });

  it(`uses only component types that exist in otelcol-contrib ${COLLECTOR_VERSION}`, () => {
    for (const kind of COMPONENT_KINDS) {
      for (const id of Object.keys(config[kind] ?? {})) {
        expect(VALID_TYPES[kind], `${kind}.${id}`).toContain(typeOf(id));
      }
    }
  });

  it('uses no removed or deprecated component names', () => {
    for (const kind of COMPONENT_KINDS) {
      for (const id of Object.keys(config[kind] ?? {})) {
        expect(RETIRED_TYPES[kind], `${kind}.${id}`).not.toContain(typeOf(id));
      }
    }
  });

  it('exposes its own metrics through telemetry readers, not the removed address key', () => {
    const metrics = config.service.telemetry?.metrics ?? {};
    expect(metrics).not.toHaveProperty('address');
    expect(metrics).toHaveProperty('readers');
  });

  it('names the collector version it is written for in its header', () => {
    expect(readRepoFile(path).split('\n')[0]).toContain(
      `opentelemetry-collector-contrib ${COLLECTOR_VERSION}`,
    );
  });
});

describe.each(SAMPLING_CONFIGS)('tail sampling in %s', (path) => {
  const config = loadConfig(path);

  it('runs memory_limiter, redaction, tail_sampling and batch in that order', () => {
    expect(config.service.pipelines.traces?.processors).toEqual([
      'memory_limiter',
      'redaction',
      'tail_sampling',
      'batch',
    ]);
  });

  it('keeps every trace with a span or span event that carries audit.action', () => {
    const audit = policiesOf(config).find((policy) => policy.type === 'ottl_condition');
    expect(audit?.ottl_condition?.error_mode).toBe('ignore');
    expect(audit?.ottl_condition?.span).toContain('attributes["audit.action"] != nil');
    expect(audit?.ottl_condition?.spanevent).toContain('attributes["audit.action"] != nil');
  });

  it('keeps every trace with an error status', () => {
    const errors = policiesOf(config).find((policy) => policy.type === 'status_code');
    expect(errors?.status_code?.status_codes).toEqual(['ERROR']);
  });

  it('keeps slow traces above a latency threshold', () => {
    const slow = policiesOf(config).find((policy) => policy.type === 'latency');
    expect(slow?.latency?.threshold_ms).toBeGreaterThan(0);
  });

  it('samples a fraction of the remaining traces', () => {
    const baseline = policiesOf(config).find((policy) => policy.type === 'probabilistic');
    expect(baseline?.probabilistic?.sampling_percentage).toBeGreaterThan(0);
    expect(baseline?.probabilistic?.sampling_percentage).toBeLessThan(100);
  });

  it('exports to Jaeger over insecure OTLP/gRPC on the compose network', () => {
    expect(componentSection(config, 'otlp_grpc/jaeger', 'exporters')).toMatchObject({
      endpoint: 'jaeger:4317',
      tls: { insecure: true },
    });
  });
});

describe('scaled-out collectors', () => {
  it('gives the second tier exactly the processors of the single collector', () => {
    expect(loadConfig(TAIL_SAMPLING_CONFIG).processors).toEqual(loadConfig(MAIN_CONFIG).processors);
  });

  it('routes spans to the second tier by trace id over OTLP', () => {
    const loadBalancing = componentSection(
      loadConfig(LOADBALANCER_CONFIG),
      'load_balancing',
      'exporters',
    );
    expect(loadBalancing).toMatchObject({
      routing_key: 'traceID',
      protocol: { otlp: { tls: { insecure: true } } },
      resolver: { dns: { hostname: 'otel-tail-sampling', port: '4317' } },
    });
  });

  it('receives on the second tier the OTLP/gRPC port the first tier resolves', () => {
    const tier2 = loadConfig(TAIL_SAMPLING_CONFIG);
    expect(tier2.receivers?.otlp).toMatchObject({
      protocols: { grpc: { endpoint: '0.0.0.0:4317' } },
    });
  });
});

describe('redaction processor', () => {
  const redaction = redactionOf(loadConfig(MAIN_CONFIG));
  const valuePatterns = redaction.blocked_values.map(compileRe2);
  const keyPatterns = redaction.blocked_key_patterns.map(compileRe2);
  const masksValue = (value: string) => valuePatterns.some((pattern) => pattern.test(value));
  const masksKey = (key: string) => keyPatterns.some((pattern) => pattern.test(key));

  it('keeps every attribute key it does not block', () => {
    expect(redaction.allow_all_keys).toBe(true);
  });

  it('reports only counts of what it masked, not key names', () => {
    expect(redaction.summary).toBe('info');
  });

  it('uses only RE2 syntax: no lookaround and no backreferences', () => {
    for (const pattern of [...redaction.blocked_values, ...redaction.blocked_key_patterns]) {
      expect(pattern).not.toMatch(/\(\?<?[=!]|\\[1-9]/);
    }
  });

  it.each([
    ['an OpenAI key', 'key=sk-proj-4fJ9xQ2LmN8pR3sT6vW1yZ0aB5cD7eF9'],
    ['an Anthropic key', 'sk-ant-api03-Xy7Qw2Er4Ty6Ui8Op0As1Df3Gh5Jk7Lz'],
    ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE'],
    ['an AWS session key id', 'ASIAY34FZKBOKMUTVV7A'],
    ['a GitHub token', 'ghp_0123456789abcdefghijABCDEFGHIJ012345'],
    ['a GitHub fine-grained token', 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv'],
    ['a Google API key', 'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q'],
    ['a Stripe live key', 'sk_live_51Hx7YzAbCdEfGhIjKlMn'],
    ['a Stripe restricted key', 'rk_live_51Hx7YzAbCdEfGhIjKlMn'],
    ['a Slack token', 'xoxb-123456789012-1234567890123-AbCdEfGhIjKl'],
    [
      'a JWT',
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    ],
    ['a bearer token', 'Authorization: Bearer abc.DEF-123_456~xyz'],
    ['a PEM private key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----'],
    ['credentials in a connection string', 'postgres://app:hunter2@db.internal:5432/app'],
    ['an email address', 'contact jane.doe+ai@example.co.uk please'],
    ['a Visa card number', 'card 4111 1111 1111 1111'],
    ['a Mastercard number', '5555555555554444'],
    ['an Amex card number', '3782-822463-10005'],
  ])('masks %s', (_kind, value) => {
    expect(masksValue(value)).toBe(true);
  });

  it.each([
    ['a UUID', '3f2b8c1e-9a4d-4e7f-b6c5-1d2e3f4a5b6c'],
    ['a trace id', '4bf92f3577b34da6a3ce929d0e0e4736'],
    ['an epoch-millisecond timestamp', '1732700000000'],
    ['an ISO timestamp', '2026-08-21T10:15:30.123Z'],
    ['a model name', 'claude-sonnet-4-5'],
    ['another model name', 'gpt-4o-mini'],
    ['an audit action', 'ai.tool_call'],
    ['a sentence', 'Refund issued after the agent checked the order history.'],
    ['a tool call id', 'call_4111111111111111'],
  ])('leaves %s unmasked', (_kind, value) => {
    expect(masksValue(value)).toBe(false);
  });

  it.each([
    'password',
    'db.password',
    'user.passwd',
    'client_secret',
    'clientSecret',
    'access_token',
    'refreshToken',
    'http.request.header.x-auth-token',
    'http.request.header.authorization',
    'http.request.header.cookie',
    'session.id',
    'x-api-key',
    'apiKey',
    'private_key',
    'customer.ssn',
    'card_number',
    'cvv',
  ])('masks the value of key %s', (key) => {
    expect(masksKey(key)).toBe(true);
  });

  it("leaves aitrail's own attribute keys unmasked", () => {
    const ownKeys = [...Object.values(AUDIT_ATTRS), ...Object.values(GEN_AI_ATTRS)];
    expect(ownKeys.filter(masksKey)).toEqual([]);
  });

  it.each(['gen_ai.usage.input_tokens', 'gen_ai.request.max_tokens', 'classname', 'span.kind'])(
    'leaves key %s unmasked',
    (key) => {
      expect(masksKey(key)).toBe(false);
    },
  );
});
