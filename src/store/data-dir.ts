import { resolve } from 'node:path';

/** The data directory: option, else `AITRAIL_DATA_DIR`, else `./.aitrail`, as an absolute path. */
export function resolveDataDir(dataDir?: string): string {
  return resolve(dataDir ?? process.env.AITRAIL_DATA_DIR ?? '.aitrail');
}
