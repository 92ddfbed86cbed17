/**
 * The process `profile-ingest.ts` profiles (started with `--cpu-prof`): initialises aitrail
 * against the given database, warms up, then runs the ingest load and reports the measured
 * window in the profiler's clock, so the summary counts that window's samples only.
 *
 *   profile-ingest-child.ts DATABASE_URL DATA_DIR RECORDS app|paced
 */
import { initAuditTelemetry } from '../src/telemetry/init.js';
import { reportToParent } from './child.js';
import { emitToolCalls, type IngestLoad } from './ingest-load.js';
import { collectGarbage, cpuMicros } from './runtime.js';

export interface ProfileChildResult {
  records: number;
  seconds: number;
  cpuMicros: number;
  /** The measured window in microseconds of the monotonic clock V8's profiles use. */
  windowStartMicros: number;
  windowEndMicros: number;
  written: number;
  accepted: number;
}

const [url, dataDir, recordsArg, loadArg] = process.argv.slice(2);
if (!url || !dataDir || !recordsArg || (loadArg !== 'app' && loadArg !== 'paced')) {
  throw new TypeError('usage: profile-ingest-child.ts DATABASE_URL DATA_DIR RECORDS app|paced');
}
const records = Number(recordsArg);
const load: IngestLoad = loadArg;
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

const telemetry = await initAuditTelemetry({
  databaseUrl: url,
  dataDir,
  serviceName: 'bench-profile',
  migrate: false,
  handleSignals: false,
});
await emitToolCalls(telemetry, Math.min(5_000, records), load);
await telemetry.flush();
collectGarbage();
const before = telemetry.stats();
const windowStartMicros = monotonicMicros();
const cpuStart = cpuMicros();
await emitToolCalls(telemetry, records, load);
await telemetry.flush();
const cpu = cpuMicros() - cpuStart;
const windowEndMicros = monotonicMicros();
const after = telemetry.stats();
await telemetry.shutdown();
const result: ProfileChildResult = {
  records,
  seconds: (windowEndMicros - windowStartMicros) / 1e6,
  cpuMicros: cpu,
  windowStartMicros,
  windowEndMicros,
  written: after.written - before.written,
  accepted: after.accepted - before.accepted,
};
reportToParent(result);
