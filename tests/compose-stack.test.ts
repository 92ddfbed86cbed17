import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No Docker engine runs here, so these tests read the compose files, the Postgres init SQL
// and the Grafana provisioning the way the engine and Grafana would, and check that the
// pieces refer to each other correctly.

interface DependsOn {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  environment?: Record<string, string>;
  volumes?: Array<string | { type: string; source: string; target: string }>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, DependsOn>;
  command?: string[];
}

interface ComposeFile {
  services: Record<string, Service>;
}

interface Datasource {
  name: string;
  type: string;
  uid: string;
  url: string;
  user?: string;
  jsonData?: Record<string, unknown>;
}

interface Panel {
  title: string;
  type: string;
  targets: Array<{ rawSql: string; format: string }>;
  fieldConfig: {
    overrides: Array<{
      matcher: { id: string; options: string };
      properties: Array<{ id: string; value: unknown }>;
    }>;
  };
}

interface Dashboard {
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: string }> };
}

const COMPOSE_FILE = 'docker-compose.yml';
const GATEWAY_OVERRIDE = 'collector/gateway/docker-compose.gateway.yml';
const INIT_DIR = 'collector/init';
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's data-link variable syntax.
const JAEGER_TRACE_LINK = 'http://localhost:16686/trace/${__value.raw}';

function repoUrl(path: string): URL {
  return new URL(`../${path.replace(/^\.\//, '')}`, import.meta.url);
}

function readRepoFile(path: string): string {
  return readFileSync(repoUrl(path), 'utf8');
}

function loadYaml<T>(path: string): T {
  return parse(readRepoFile(path)) as T;
}

function service(compose: ComposeFile, name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`${COMPOSE_FILE} has no service ${name}`);
  return found;
}

/** Host side of the bind mounts (`./host:/container[:mode]`); named volumes are skipped. */
function bindMountSources(svc: Service): string[] {
  return (svc.volumes ?? []).flatMap((volume) => {
    if (typeof volume !== 'string') return volume.type === 'bind' ? [volume.source] : [];
    const source = volume.split(':')[0] ?? '';
    return /^[./~]/.test(source) ? [source] : [];
  });
}

function bindMountTarget(svc: Service, source: string): string | undefined {
  for (const volume of svc.volumes ?? []) {
    if (typeof volume === 'string' && volume.split(':')[0] === source) {
      return volume.split(':')[1];
    }
  }
  return undefined;
}

function initSql(): string {
  return readdirSync(repoUrl(INIT_DIR))
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => readRepoFile(`${INIT_DIR}/${file}`))
    .join('\n');
}

/** Every datasource uid a dashboard refers to: panels, targets, variables and data links. */
function datasourceUids(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(datasourceUids);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => {
    if (key === 'datasourceUid' && typeof value === 'string') return [value];
    if (key === 'datasource' && value !== null && typeof value === 'object' && 'uid' in value) {
      return [String(value.uid), ...datasourceUids(value)];
    }
    return datasourceUids(value);
  });
}

const composeFiles = [COMPOSE_FILE, GATEWAY_OVERRIDE];
const compose = loadYaml<ComposeFile>(COMPOSE_FILE);
const datasources = loadYaml<{ datasources: Datasource[] }>(
  'collector/grafana/provisioning/datasources/datasources.yaml',
).datasources;
const dashboard = JSON.parse(
  readRepoFile('collector/grafana/dashboards/ai-audit.json'),
) as Dashboard;

describe.each(composeFiles)('compose file %s', (path) => {
  const file = loadYaml<ComposeFile>(path);
  const services = Object.entries(file.services);

  it('bind-mounts only repository paths that exist, relative to the repository root', () => {
    for (const [name, svc] of services) {
      for (const source of bindMountSources(svc)) {
        expect(source, name).toMatch(/^\.\//);
        expect(existsSync(repoUrl(source)), `${name}: ${source}`).toBe(true);
      }
    }
  });

  it('pins every image to a version tag', () => {
    for (const [name, svc] of services) {
      if (!svc.image) continue;
      const tag = /^[^:@\s]+:([^:@\s]+)$/.exec(svc.image)?.[1];
      expect(tag, `${name}: ${svc.image}`).toMatch(/\d/);
      expect(tag).not.toMatch(/latest/);
    }
  });

  it('waits for service_healthy only on services that define a healthcheck', () => {
    const all = { ...compose.services, ...file.services };
    for (const [name, svc] of services) {
      for (const [dependency, { condition }] of Object.entries(svc.depends_on ?? {})) {
        expect(Object.keys(all), `${name} depends on ${dependency}`).toContain(dependency);
        if (condition === 'service_healthy') {
          expect(all[dependency]?.healthcheck, `${name} waits on ${dependency}`).toBeDefined();
        }
      }
    }
  });

  it('has no healthcheck on a collector: its image has no shell to run one', () => {
    for (const [name, svc] of services) {
      if (svc.image?.startsWith('otel/opentelemetry-collector-contrib:')) {
        expect(svc.healthcheck, name).toBeUndefined();
      }
    }
  });
});

describe('docker-compose.yml', () => {
  it('builds the demo from a Dockerfile in the repository on a pinned base image', () => {
    const build = service(compose, 'demo').build;
    expect(build?.context).toBe('.');
    const dockerfile = readRepoFile(build?.dockerfile ?? 'Dockerfile');
    const from = /^FROM\s+(\S+)/m.exec(dockerfile)?.[1];
    expect(from).toMatch(/^node:\d+\.\d+\.\d+-/);
  });

  it('runs the collector with the configuration file it mounts', () => {
    const collector = service(compose, 'otel-collector');
    expect(bindMountTarget(collector, './otel-collector-config.yaml')).toBe(
      '/etc/otelcol-contrib/config.yaml',
    );
  });

  it('uses the same collector image for every collector service', () => {
    const override = loadYaml<ComposeFile>(GATEWAY_OVERRIDE);
    expect(service(override, 'otel-tail-sampling').image).toBe(
      service(compose, 'otel-collector').image,
    );
  });

  it('pins the collector image to the version its configuration is written for', () => {
    const configVersion = /opentelemetry-collector-contrib (\d+\.\d+\.\d+)/.exec(
      readRepoFile('otel-collector-config.yaml'),
    )?.[1];
    expect(configVersion).toBeDefined();
    expect(service(compose, 'otel-collector').image).toBe(
      `otel/opentelemetry-collector-contrib:${configVersion}`,
    );
  });

  it('points the demo at the OTLP/HTTP port the collector listens on', () => {
    const config = loadYaml<{
      receivers: { otlp: { protocols: { http: { endpoint: string } } } };
    }>('otel-collector-config.yaml');
    const httpPort = config.receivers.otlp.protocols.http.endpoint.split(':')[1];
    expect(service(compose, 'demo').environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(
      `http://otel-collector:${httpPort}`,
    );
  });

  it('exports from the collector to the Jaeger service of the stack', () => {
    const config = loadYaml<{ exporters: Record<string, { endpoint?: string }> }>(
      'otel-collector-config.yaml',
    );
    const host = config.exporters['otlp_grpc/jaeger']?.endpoint?.split(':')[0];
    expect(Object.keys(compose.services)).toContain(host);
    expect(service(compose, 'jaeger').image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
  });

  it('runs migrations as aitrail_owner and the demo as aitrail_writer', () => {
    const demo = service(compose, 'demo');
    const writerUrl = new URL(demo.environment?.DATABASE_URL ?? '');
    const ownerUrl = new URL(demo.environment?.AITRAIL_OWNER_DATABASE_URL ?? '');
    expect(writerUrl.username).toBe('aitrail_writer');
    expect(ownerUrl.username).toBe('aitrail_owner');
    expect(writerUrl.host).toBe('postgres:5432');
    expect(demo.command?.join(' ')).toMatch(
      /migrate --database-url "\$\$AITRAIL_OWNER_DATABASE_URL" && node \S+ demo/,
    );
  });

  it('publishes the collector, Jaeger UI, Grafana and Postgres ports on loopback only', () => {
    const published = Object.values(compose.services).flatMap((svc) => svc.ports ?? []);
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    expect(published.map((port) => Number(port.split(':')[1])).sort((a, b) => a - b)).toEqual([
      3000, 4317, 4318, 5432, 13133, 16686,
    ]);
  });

  it('mounts the init SQL where the Postgres image runs it on first start', () => {
    expect(bindMountTarget(service(compose, 'postgres'), `./${INIT_DIR}`)).toBe(
      '/docker-entrypoint-initdb.d',
    );
  });
});

describe('Postgres init SQL', () => {
  const sql = initSql();

  it.each(['aitrail_owner', 'aitrail_writer', 'aitrail_reader', 'aitrail_auditor'])(
    'creates the role %s',
    (role) => {
      expect(sql).toMatch(new RegExp(`CREATE ROLE ${role}\\b`));
    },
  );

  it('grants the writer INSERT on future audit tables, and no SELECT on them', () => {
    expect(sql).toMatch(
      /ALTER DEFAULT PRIVILEGES FOR ROLE aitrail_owner IN SCHEMA public\s+GRANT INSERT ON TABLES TO aitrail_writer;/,
    );
    expect(sql).not.toMatch(/GRANT SELECT[^;]*aitrail_writer/);
  });

  it('grants the auditor SELECT on future audit tables, and the tenant reader nothing by default', () => {
    expect(sql).toMatch(
      /ALTER DEFAULT PRIVILEGES FOR ROLE aitrail_owner IN SCHEMA public\s+GRANT SELECT ON TABLES TO aitrail_auditor;/,
    );
    expect(sql).not.toMatch(/DEFAULT PRIVILEGES[^;]*GRANT SELECT[^;]*aitrail_reader/);
  });

  it('keeps aitrail_reader subject to row-level security', () => {
    expect(/CREATE ROLE aitrail_reader[^;]*;/.exec(sql)?.[0]).toMatch(/NOBYPASSRLS/);
  });

  it('lets only aitrail_auditor and the writer bypass row-level security', () => {
    const bypassing = [...sql.matchAll(/CREATE ROLE (\w+)[^;]*\bBYPASSRLS\b/g)].map((m) => m[1]);
    expect(bypassing.sort()).toEqual(['aitrail_auditor', 'aitrail_writer']);
  });

  it('labels its passwords as local-only', () => {
    const passwords = [...sql.matchAll(/PASSWORD '([^']*)'/g)].map((m) => m[1]);
    expect(passwords).toHaveLength(4);
    for (const password of passwords) expect(password).toMatch(/local_only$/);
  });
});

describe('Grafana provisioning', () => {
  const postgres = datasources.find((ds) => ds.uid === 'aitrail-postgres');

  it('provisions Postgres as grafana-postgresql-datasource, as aitrail_auditor on aitrail', () => {
    expect(postgres).toMatchObject({
      type: 'grafana-postgresql-datasource',
      url: 'postgres:5432',
      user: 'aitrail_auditor',
      jsonData: { database: 'aitrail' },
    });
  });

  it('provisions Jaeger at its query port on the compose network', () => {
    expect(datasources.find((ds) => ds.uid === 'jaeger')).toMatchObject({
      type: 'jaeger',
      url: 'http://jaeger:16686',
    });
  });

  it('loads dashboards from the directory the compose file mounts them into', () => {
    const provider = loadYaml<{ providers: Array<{ type: string; options: { path: string } }> }>(
      'collector/grafana/provisioning/dashboards/dashboards.yaml',
    ).providers[0];
    expect(provider?.type).toBe('file');
    expect(provider?.options.path).toBe(
      bindMountTarget(service(compose, 'grafana'), './collector/grafana/dashboards'),
    );
  });

  it('refers only to provisioned datasource uids in the dashboard', () => {
    const used = datasourceUids(dashboard);
    expect(used.length).toBeGreaterThan(0);
    const provisioned = datasources.map((ds) => ds.uid);
    for (const uid of used) expect(provisioned).toContain(uid);
  });
});

describe('AI audit dashboard', () => {
  const panel = (title: string): Panel => {
    const found = dashboard.panels.find((p) => p.title === title);
    if (!found) throw new Error(`the dashboard has no panel "${title}"`);
    return found;
  };

  it('is titled "AI audit"', () => {
    expect(dashboard.title).toBe('AI audit');
  });

  it('offers a tenant variable and filters every query by it', () => {
    expect(dashboard.templating.list.map((variable) => variable.name)).toContain('tenant');
    for (const p of dashboard.panels) {
      for (const target of p.targets) expect(target.rawSql, p.title).toContain('($tenant)');
    }
  });

  it('limits every query to the dashboard time range on occurred_at', () => {
    for (const p of dashboard.panels) {
      for (const target of p.targets) {
        expect(target.rawSql, p.title).toContain('$__timeFilter(occurred_at)');
      }
    }
  });

  it('charts actions over time, one series per action', () => {
    const sql = panel('Actions over time').targets[0]?.rawSql;
    expect(sql).toContain('$__timeGroupAlias(occurred_at');
    expect(sql).toMatch(/action AS metric/);
  });

  it('groups approval decisions by metadata.approverId and decision', () => {
    const sql = panel('Approvals by approver and decision').targets[0]?.rawSql;
    expect(sql).toContain("metadata->>'approverId'");
    expect(sql).toContain("'ai.approval_approved', 'ai.approval_rejected'");
  });

  it('shows rate-limit and budget events', () => {
    const sql = panel('Rate-limit and budget events').targets[0]?.rawSql;
    expect(sql).toContain("action IN ('ai.rate_limited', 'ai.budget_exceeded')");
  });

  it('lists recent tool calls with the columns an investigation starts from', () => {
    const recent = panel('Recent tool calls');
    expect(recent.type).toBe('table');
    const sql = recent.targets[0]?.rawSql ?? '';
    expect(sql).toContain("action = 'ai.tool_call'");
    const columns = /SELECT([\s\S]*?)FROM/
      .exec(sql)?.[1]
      ?.split(',')
      .map((c) => c.trim());
    expect(columns).toEqual([
      'occurred_at',
      'tenant_id',
      'actor_id',
      'agent_name',
      'tool_name',
      'outcome',
      'trace_id',
    ]);
  });

  it('links the trace_id of a recent tool call to the trace in Jaeger', () => {
    const override = panel('Recent tool calls').fieldConfig.overrides.find(
      (o) => o.matcher.id === 'byName' && o.matcher.options === 'trace_id',
    );
    const links = override?.properties.find((p) => p.id === 'links')?.value as
      | Array<{ url: string }>
      | undefined;
    expect(links?.map((link) => link.url)).toContain(JAEGER_TRACE_LINK);
  });
});
