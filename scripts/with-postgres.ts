// Runs a command with DATABASE_URL set to a fresh, empty database: on the server in
// DATABASE_URL when one is given (its role must CREATE DATABASE), else on a throwaway cluster
// started here (the test harness's initdb/pg_ctl logic) and removed afterwards.
// Usage: tsx scripts/with-postgres.ts <command> [args...]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createDatabase,
  dropDatabase,
  startThrowawayCluster,
  type ThrowawayCluster,
} from '../tests/support/pg-cluster.js';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: with-postgres <command> [args...]');
  process.exit(2);
}

const external = process.env.DATABASE_URL || undefined;
let cluster: ThrowawayCluster | undefined;
let status = 1;
try {
  if (!external) cluster = await startThrowawayCluster({ fast: true });
  const adminUrl = external ?? (cluster as ThrowawayCluster).url;
  const name = `aitrail_ci_${randomBytes(4).toString('hex')}`;
  const url = await createDatabase(adminUrl, name);
  status = await new Promise<number>((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: 'inherit',
      env: { ...process.env, DATABASE_URL: url, AITRAIL_ADMIN_URL: adminUrl },
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
  if (external) await dropDatabase(adminUrl, name);
} finally {
  await cluster?.stop();
}
process.exit(status);
