/**
 * Worker thread entry: reads chains over a connection of its own and walks their rows
 * (`chain-walk.ts`) as they stream in. See `walk-threads.ts`.
 */
import { type MessagePort, parentPort } from 'node:worker_threads';
import { AitrailError } from '../../errors.js';
import { PostgresConnection } from '../postgres-connection.js';
import { readChainRows } from './chain-rows.js';
import { ChainWalk } from './chain-walk.js';
import type { FromWalkThread, ToWalkThread } from './walk-threads.js';

if (!parentPort) throw new Error('walk-worker.ts runs as a worker thread only');
serve(parentPort);

function serve(port: MessagePort): void {
  // One connection per thread, opened on its first walk and kept for the next.
  let connection: PostgresConnection | null = null;
  const send = (message: FromWalkThread) => port.postMessage(message);
  port.on('message', (message: ToWalkThread) => {
    if (message.type === 'close') {
      void (connection?.close() ?? Promise.resolve())
        .catch(() => {})
        .finally(() => process.exit(0));
      return;
    }
    const { id, plan, read } = message;
    connection ??= new PostgresConnection({ url: read.databaseUrl, maxConnections: 1 });
    const conn = connection;
    // A walk that cannot start (a bad frontier) fails as one that cannot read: as this walk's error.
    Promise.resolve()
      .then(async () => {
        const walk = new ChainWalk(
          plan,
          (failure) => send({ type: 'fail', id, failure }),
          (rows) => send({ type: 'rows', id, rows }),
        );
        await readChainRows(conn, {
          chainId: plan.chainId,
          afterSeq: read.afterSeq,
          throughSeq: null,
          pageRows: read.pageRows,
          onRow: (row) => walk.row(row),
        });
        return walk.finish();
      })
      .then(
        (summary) => send({ type: 'done', id, summary }),
        (error: unknown) =>
          send({
            type: 'error',
            id,
            message: error instanceof Error ? error.message : String(error),
            code:
              typeof (error as { code?: unknown })?.code === 'string'
                ? (error as { code: string }).code
                : null,
            aitrail: error instanceof AitrailError,
          }),
      );
  });
}
