// The worker thread that runs the embedded store's PGlite (Postgres compiled to WASM), so the
// app's event loop never waits on Postgres: every statement runs here, and the main thread
// (pglite-thread.ts) only posts messages. Plain JavaScript, so it loads the same way from the
// sources (tsx, vitest) and from both builds.
//
// workerData: { directory, settings } — the data directory and Postgres settings (`-c` pairs).
// Messages in:  { op: 'open' } once (the directory is ready: Postgres starts), then
//               { id, op: 'query', text, params, rowMode, rawTypes } | { id, op: 'exec', text }
//               | { id, op: 'migrate', config } | { id, op: 'close' }
// Messages out: { op: 'ready' } | { op: 'failed', error } once; then { id, result } | { id, error }.
import { fsyncSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

/**
 * NodeFS whose files can be synced. PGlite's WASM build has no fsync of its own: Emscripten's
 * fsync reaches the filesystem's `fsync` stream operation, which NODEFS lacks (so it is a no-op),
 * and fdatasync is a stub. This adds the operation; with `wal_sync_method = fsync` every commit
 * and every checkpoint reaches the disk. A failed fsync reaches Postgres as its errno (Postgres
 * then stops rather than carry on with data it cannot trust).
 */
class DurableNodeFS extends NodeFS {
  async init(pg, options) {
    const { emscriptenOpts } = await super.init(pg, options);
    const addFsync = (mod) => {
      const nodefs = mod.NODEFS;
      nodefs.stream_ops.fsync = (stream) => {
        if (typeof stream.nfd === 'number') nodefs.tryFSOperation(() => fsyncSync(stream.nfd));
        return 0;
      };
    };
    return {
      emscriptenOpts: { ...emscriptenOpts, preRun: [...(emscriptenOpts.preRun ?? []), addFsync] },
    };
  }
}

/** PGlite's start parameters without `-F` (which turns fsync off), plus the store's settings. */
function startParams(settings) {
  const params = PGlite.defaultStartParams.filter((param) => param !== '-F');
  for (const [name, value] of Object.entries(settings)) params.push('-c', `${name}=${value}`);
  return params;
}

/** Only primitive fields cross to the main thread: a SQLSTATE `code`, `detail`, `hint`, ... */
function serializeError(error) {
  const fields = {};
  if (error && typeof error === 'object') {
    for (const [key, value] of Object.entries(error)) {
      if (['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value;
    }
  }
  return {
    name: error instanceof Error ? error.name : 'Error',
    message: error instanceof Error ? error.message : String(error),
    fields,
  };
}

/**
 * drizzle's migrator on this thread's PGlite, loaded when there is something to apply: loading
 * drizzle takes long enough to be felt, and here it blocks no one. Its CommonJS build loads several
 * times faster than its ES modules (one large package.json, read again for every module).
 */
async function migrate(pg, config) {
  const require = createRequire(import.meta.url);
  const { drizzle } = require('drizzle-orm/pglite');
  const { migrate: applyMigrations } = require('drizzle-orm/pglite/migrator');
  await applyMigrations(drizzle({ client: pg }), config);
}

/** Parsers that keep a type's text as it is (drizzle maps dates and intervals itself). */
function keepText(rawTypes) {
  if (!rawTypes || rawTypes.length === 0) return undefined;
  return Object.fromEntries(rawTypes.map((type) => [type, (value) => value]));
}

/**
 * PGlite's WASM compiled and its file bundle read while the main thread still prepares the
 * directory (a first run plants the seed meanwhile). Null when that fails: PGlite loads them itself.
 */
async function loadAssets() {
  try {
    const [wasm, bundle] = await Promise.all([
      readFile(new URL(import.meta.resolve('@electric-sql/pglite/pglite.wasm'))),
      readFile(new URL(import.meta.resolve('@electric-sql/pglite/pglite.data'))),
    ]);
    return { pgliteWasmModule: await WebAssembly.compile(wasm), fsBundle: new Blob([bundle]) };
  } catch {
    return {};
  }
}

async function main() {
  const { directory, settings } = workerData;
  const assets = loadAssets();
  await new Promise((resolve) => parentPort.once('message', resolve));
  let pg;
  try {
    pg = await PGlite.create({
      dataDir: directory,
      fs: new DurableNodeFS(directory),
      startParams: startParams(settings),
      ...(await assets),
    });
  } catch (error) {
    parentPort.postMessage({ op: 'failed', error: serializeError(error) });
    return;
  }
  parentPort.on('message', async (message) => {
    try {
      let result;
      if (message.op === 'query') {
        const r = await pg.query(message.text, message.params, {
          rowMode: message.rowMode,
          parsers: keepText(message.rawTypes),
        });
        result = { rows: r.rows, fields: r.fields, affectedRows: r.affectedRows };
      } else if (message.op === 'exec') {
        const results = await pg.exec(message.text);
        result = results.map((r) => ({
          rows: r.rows,
          fields: r.fields,
          affectedRows: r.affectedRows,
        }));
      } else if (message.op === 'migrate') {
        await migrate(pg, message.config);
        result = null;
      } else if (message.op === 'close') {
        if (!pg.closed) await pg.close();
        result = null;
      } else {
        throw new Error(`unknown operation ${JSON.stringify(message.op)}`);
      }
      parentPort.postMessage({ id: message.id, result });
    } catch (error) {
      parentPort.postMessage({ id: message.id, error: serializeError(error) });
    }
  });
  parentPort.postMessage({ op: 'ready' });
}

await main();
