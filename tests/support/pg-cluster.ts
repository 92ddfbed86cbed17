/**
 * A throwaway Postgres cluster (initdb + pg_ctl) for tests and benchmarks.
 *
 * Postgres refuses to run as root, so when this process is root every server command
 * runs as the `postgres` OS user and the cluster's directory is handed to that user.
 * The lifecycle is exposed (stop with a mode, start again on the same port and data dir)
 * because durability tests crash the server on purpose.
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import postgres from 'postgres';

export type StopMode = 'fast' | 'immediate';

/** Everything pg_ctl needs; plain data, so vitest can hand it to test workers. */
export interface ClusterControl {
  binDir: string;
  dataDir: string;
  port: number;
  socketDir: string;
  logFile: string;
  /** True when this process is root and server commands run as the `postgres` OS user. */
  runAsPostgres: boolean;
}

export interface ThrowawayClusterOptions {
  /**
   * fsync, synchronous_commit and full_page_writes off: much faster, and still crash-safe
   * for a process crash (`-m immediate`), only not for an OS crash. Benchmarks leave it off.
   */
  fast?: boolean;
  /** Where the cluster's temp dir goes; default `os.tmpdir()`. Must be traversable by `postgres`. */
  parentDir?: string;
  /** Extra postgresql.conf settings, e.g. `{ shared_buffers: '256MB' }`. */
  settings?: Record<string, string | number | boolean>;
}

export interface ThrowawayCluster {
  /** Superuser URL (`postgres`, trust auth) of the `postgres` database over TCP on 127.0.0.1. */
  url: string;
  port: number;
  dataDir: string;
  /** The temp dir holding data dir, socket dir and server log; removed by `stop()`. */
  baseDir: string;
  control: ClusterControl;
  /** Stops the server, keeping the data dir. `immediate` is a crash: no shutdown checkpoint. */
  stopCluster(mode?: StopMode): Promise<void>;
  /** Starts the server again on the same port and data dir; resolves once it accepts connections. */
  startCluster(): Promise<void>;
  restart(mode?: StopMode): Promise<void>;
  /** Stops the server (fast, falling back to immediate, then SIGKILL) and removes all its files. */
  stop(): Promise<void>;
}

const START_TIMEOUT_S = 60;
const FAST_STOP_TIMEOUT_S = 20;
const IMMEDIATE_STOP_TIMEOUT_S = 10;
const SERVER_BINARIES = ['initdb', 'pg_ctl', 'postgres'];

let cachedBinDir: string | undefined;

/** The directory holding initdb, pg_ctl and postgres: `pg_config --bindir`, else found on PATH. */
export function pgBinDir(): string {
  if (cachedBinDir) return cachedBinDir;
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // No pg_config (client-only installs often lack it); PATH is searched next.
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const initdb = join(dir, 'initdb');
    if (!dir || !existsSync(initdb)) continue;
    // /usr/local/bin/initdb is often a symlink; the real dir also holds pg_ctl's siblings.
    candidates.push(dirname(realpathOf(initdb)), dir);
  }
  const found = candidates.find((dir) =>
    SERVER_BINARIES.every((bin) => isExecutable(join(dir, bin))),
  );
  if (!found) {
    throw new Error(
      'Postgres server binaries not found: need initdb, pg_ctl and postgres (15+) from ' +
        '`pg_config --bindir` or on PATH. Install the Postgres server package or set DATABASE_URL.',
    );
  }
  cachedBinDir = found;
  return found;
}

/** Creates, configures and starts a cluster on a free port of 127.0.0.1. */
export async function startThrowawayCluster(
  options: ThrowawayClusterOptions = {},
): Promise<ThrowawayCluster> {
  const binDir = pgBinDir();
  const runAsPostgres = process.getuid?.() === 0;
  const baseDir = await mkdtemp(join(options.parentDir ?? tmpdir(), 'aitrail-pg-'));
  const control: ClusterControl = {
    binDir,
    dataDir: join(baseDir, 'data'),
    port: 0,
    socketDir: join(baseDir, 'sock'),
    logFile: join(baseDir, 'server.log'),
    runAsPostgres,
  };
  liveClusters.add(control);
  try {
    await mkdir(control.socketDir);
    if (runAsPostgres) await handToPostgresUser(baseDir, control.socketDir);
    // --no-sync: initdb's own flush of the fresh files only slows a throwaway cluster down;
    // the server's fsync setting (see `fast`) is what governs durability of test writes.
    await runServerCommand(control, 'initdb', [
      '-D',
      control.dataDir,
      '--auth=trust',
      '-U',
      'postgres',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ]);
    await writeFile(
      join(control.dataDir, 'postgresql.conf'),
      `\ninclude_if_exists = 'aitrail.conf'\n`,
      { flag: 'a' },
    );
    await startOnFreePort(control, options);
  } catch (error) {
    stopLeftoverServerSync(control);
    liveClusters.delete(control);
    await rm(baseDir, { recursive: true, force: true });
    throw error;
  }

  const url = `postgres://postgres@127.0.0.1:${control.port}/postgres`;
  return {
    url,
    port: control.port,
    dataDir: control.dataDir,
    baseDir,
    control,
    stopCluster: (mode = 'fast') => pgCtlStop(control, mode),
    startCluster: () => pgCtlStart(control),
    async restart(mode = 'fast') {
      await pgCtlStop(control, mode);
      await pgCtlStart(control);
    },
    async stop() {
      try {
        await stopWithFallback(control);
      } finally {
        liveClusters.delete(control);
        await rm(baseDir, { recursive: true, force: true });
      }
    },
  };
}

/** Starts the server of `control`; resolves once it accepts connections (`pg_ctl -w`). */
export async function pgCtlStart(control: ClusterControl): Promise<void> {
  try {
    await runServerCommand(
      control,
      'pg_ctl',
      [
        'start',
        '-D',
        control.dataDir,
        '-l',
        control.logFile,
        '-w',
        '-t',
        `${START_TIMEOUT_S}`,
        '-s',
      ],
      (START_TIMEOUT_S + 10) * 1000,
    );
  } catch (error) {
    throw new Error(
      `Postgres did not start on port ${control.port} (data dir ${control.dataDir}).\n` +
        `Server log tail:\n${await logTail(control)}`,
      { cause: error },
    );
  }
}

/** Stops the server of `control` with `pg_ctl stop -m <mode>`; a server already down is fine. */
export async function pgCtlStop(control: ClusterControl, mode: StopMode = 'fast'): Promise<void> {
  if (!existsSync(join(control.dataDir, 'postmaster.pid'))) return;
  const timeoutS = mode === 'fast' ? FAST_STOP_TIMEOUT_S : IMMEDIATE_STOP_TIMEOUT_S;
  await runServerCommand(
    control,
    'pg_ctl',
    ['stop', '-D', control.dataDir, '-m', mode, '-w', '-t', `${timeoutS}`, '-s'],
    (timeoutS + 10) * 1000,
  );
}

/** Creates database `name` through the superuser `adminUrl`; returns a URL of the new database. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  assertDatabaseName(name);
  await withConnection(adminUrl, (sql) => sql`CREATE DATABASE ${sql(name)}`);
  return databaseUrl(adminUrl, name);
}

/** Drops database `name`, disconnecting its sessions (Postgres 13+ `WITH (FORCE)`). */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  assertDatabaseName(name);
  await withConnection(adminUrl, (sql) => sql`DROP DATABASE IF EXISTS ${sql(name)} WITH (FORCE)`);
}

/** `adminUrl` pointing at database `name` instead. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/**
 * Kills every server whose data dir lies (at most two levels) under `rootDir`, then removes it.
 * The safety net for clusters whose owner died before stopping them (a killed test worker).
 */
export function removeClusterTree(rootDir: string): void {
  if (!existsSync(rootDir)) return;
  for (const dataDir of findDataDirs(rootDir, 2)) {
    stopLeftoverServerSync({
      binDir: safeBinDir(),
      dataDir,
      runAsPostgres: process.getuid?.() === 0,
    });
  }
  rmSync(rootDir, { recursive: true, force: true });
}

export { redactUrl } from '../../src/store/postgres-store.js';

// Clusters this process started and has not stopped; killed on exit so no server outlives us.
const liveClusters = new Set<ClusterControl>();
process.once('exit', () => {
  for (const control of liveClusters) {
    stopLeftoverServerSync(control);
    rmSync(dirname(control.dataDir), { recursive: true, force: true });
  }
});

async function startOnFreePort(
  control: ClusterControl,
  options: ThrowawayClusterOptions,
): Promise<void> {
  // The port is free when probed but may be taken before the postmaster binds it: retry.
  for (let attempt = 1; ; attempt++) {
    control.port = await findFreePort();
    await writeConfig(control, options);
    try {
      await pgCtlStart(control);
      return;
    } catch (error) {
      const portTaken = /could not bind|Address already in use/i.test(await logTail(control));
      if (!portTaken || attempt >= 3) throw error;
    }
  }
}

async function writeConfig(
  control: ClusterControl,
  options: ThrowawayClusterOptions,
): Promise<void> {
  const settings: Record<string, string | number | boolean> = {
    listen_addresses: '127.0.0.1',
    port: control.port,
    unix_socket_directories: control.socketDir,
    max_connections: 200,
    ...(options.fast
      ? { fsync: false, synchronous_commit: false, full_page_writes: false }
      : undefined),
    ...options.settings,
  };
  const lines = Object.entries(settings).map(([key, value]) => `${key} = ${configValue(value)}`);
  const file = join(control.dataDir, 'aitrail.conf');
  await writeFile(file, `${lines.join('\n')}\n`);
  if (control.runAsPostgres) {
    const { uid, gid } = postgresUser();
    await chown(file, uid, gid);
  }
}

function configValue(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') return `${value}`;
  return `'${value.replaceAll("'", "''")}'`;
}

async function stopWithFallback(control: ClusterControl): Promise<void> {
  try {
    await pgCtlStop(control, 'fast');
  } catch {
    try {
      await pgCtlStop(control, 'immediate');
    } catch {
      stopLeftoverServerSync(control);
    }
  }
}

/** Synchronous last resort (exit handlers cannot await): immediate stop, then SIGKILL. */
function stopLeftoverServerSync(
  control: Pick<ClusterControl, 'binDir' | 'dataDir' | 'runAsPostgres'>,
) {
  const pidFile = join(control.dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  try {
    const [file, args] = serverCommand(control, 'pg_ctl', [
      'stop',
      '-D',
      control.dataDir,
      '-m',
      'immediate',
      '-w',
      '-t',
      `${IMMEDIATE_STOP_TIMEOUT_S}`,
      '-s',
    ]);
    execFileSync(file, args, { stdio: 'ignore', timeout: (IMMEDIATE_STOP_TIMEOUT_S + 5) * 1000 });
  } catch {
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

function findDataDirs(dir: string, depth: number): string[] {
  if (existsSync(join(dir, 'PG_VERSION'))) return [dir];
  if (depth < 0) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) found.push(...findDataDirs(join(dir, entry.name), depth - 1));
  }
  return found;
}

function runServerCommand(
  control: Pick<ClusterControl, 'binDir' | 'dataDir' | 'runAsPostgres'>,
  bin: string,
  args: string[],
  timeoutMs = 120_000,
): Promise<void> {
  const [file, fullArgs] = serverCommand(control, bin, args);
  return new Promise((resolve, reject) => {
    // cwd: the postgres user may not be allowed into our working directory.
    execFile(
      file,
      fullArgs,
      { cwd: dirname(control.dataDir), timeout: timeoutMs, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve();
        const output = `${stdout}${stderr}`.trim();
        reject(new Error(`${bin} ${args.join(' ')} failed: ${output || error.message}`));
      },
    );
  });
}

/** The command line for a server binary, run as the `postgres` OS user when we are root. */
function serverCommand(
  control: Pick<ClusterControl, 'binDir' | 'runAsPostgres'>,
  bin: string,
  args: string[],
): [string, string[]] {
  const path = join(control.binDir, bin);
  return control.runAsPostgres ? asPostgresUser(path, args) : [path, args];
}

function asPostgresUser(file: string, args: string[]): [string, string[]] {
  const runuser = findOnPath('runuser');
  if (runuser) return [runuser, ['-u', 'postgres', '--', file, ...args]];
  const quoted = [file, ...args].map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(' ');
  return ['su', ['-s', '/bin/sh', '-c', quoted, 'postgres']];
}

async function handToPostgresUser(baseDir: string, socketDir: string): Promise<void> {
  const { uid, gid } = postgresUser();
  await chown(baseDir, uid, gid);
  await chown(socketDir, uid, gid);
  try {
    execFileSync(...asPostgresUser('test', ['-w', baseDir]), { stdio: 'ignore' });
  } catch {
    throw new Error(
      `The postgres OS user cannot reach ${baseDir}: a parent directory is not traversable. ` +
        'Set TMPDIR to a directory every user can traverse (e.g. /tmp).',
    );
  }
}

let cachedPostgresUser: { uid: number; gid: number } | undefined;

function postgresUser(): { uid: number; gid: number } {
  if (cachedPostgresUser) return cachedPostgresUser;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    cachedPostgresUser = { uid, gid };
    return cachedPostgresUser;
  } catch {
    throw new Error(
      'Running as root, and Postgres refuses to run as root, but there is no `postgres` OS user ' +
        'to run it as. Create one (useradd --system postgres) or run the tests as a non-root user.',
    );
  }
}

/** A loopback port nothing listens on right now (bound, read, released). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port found'))));
    });
  });
}

async function withConnection<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, connect_timeout: 10, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function assertDatabaseName(name: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new TypeError(
      `database name ${JSON.stringify(name)}: use 1-63 lowercase letters, digits and underscores`,
    );
  }
}

async function logTail(control: ClusterControl): Promise<string> {
  try {
    return (await readFile(control.logFile, 'utf8')).split('\n').slice(-20).join('\n');
  } catch {
    return '(no server log)';
  }
}

function safeBinDir(): string {
  try {
    return pgBinDir();
  } catch {
    return '';
  }
}

function realpathOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(bin: string): string | undefined {
  // runuser lives in /usr/sbin, which is not always on PATH.
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  return dirs
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, bin))
    .find(isExecutable);
}
