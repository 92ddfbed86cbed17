import { cpus, loadavg, release, totalmem, type } from 'node:os';
import postgres from 'postgres';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  os: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the bench started: other work on the machine skews figures. */
  loadAverageAtStart: number[];
  postgres: {
    version: string;
    /** Where the server came from: a throwaway cluster this run started, or DATABASE_URL. */
    source: string;
    /** Settings that decide write throughput, as the server reports them. */
    settings: Record<string, string>;
  };
}

const REPORTED_SETTINGS = [
  'fsync',
  'synchronous_commit',
  'full_page_writes',
  'wal_level',
  'shared_buffers',
  'max_wal_size',
  'work_mem',
];

export async function describeMachine(adminUrl: string, source: string): Promise<MachineInfo> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql<{ server_version: string }[]>`SHOW server_version`;
    const settings = await sql<{ name: string; setting: string; unit: string | null }[]>`
      SELECT name, setting, unit FROM pg_settings WHERE name = ANY(${REPORTED_SETTINGS})`;
    return {
      cores: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      memoryBytes: totalmem(),
      os: `${type()} ${release()}`,
      node: process.version,
      loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
      postgres: {
        version: row?.server_version ?? 'unknown',
        source,
        settings: Object.fromEntries(
          settings.map((s) => [s.name, s.unit ? `${s.setting} × ${s.unit}` : s.setting]),
        ),
      },
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export function describeMachineText(m: MachineInfo): string {
  const gib = (m.memoryBytes / 1024 ** 3).toFixed(1);
  const settings = Object.entries(m.postgres.settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return [
    `machine:  ${m.cores} cores (${m.cpuModel}), ${gib} GiB RAM, ${m.os}`,
    `node:     ${m.node}; load average at start ${m.loadAverageAtStart.join(' ')}`,
    `postgres: ${m.postgres.version}, ${m.postgres.source}`,
    `          ${settings}`,
  ].join('\n');
}
