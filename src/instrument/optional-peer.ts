import { AitrailError } from '../errors.js';

/**
 * Loads an optional peer dependency on first use, so aitrail never requires an SDK the app
 * does not use. `load` is a literal `import('<name>')` at the call site, which bundlers can see.
 */
export async function importOptionalPeer<T>(
  packageName: string,
  caller: string,
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new AitrailError(
        'PEER_MISSING',
        `${caller}: the optional peer dependency "${packageName}" is not installed; add it to your app (npm install ${packageName})`,
        { cause: error },
      );
    }
    throw error;
  }
}
