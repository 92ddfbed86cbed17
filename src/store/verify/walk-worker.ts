/**
 * Worker thread entry: runs chain walks (`chain-walk.ts`) on rows the verifying thread reads from
 * the database and sends over in batches. See `walk-threads.ts`.
 */
import { type MessagePort, parentPort } from 'node:worker_threads';
import { ChainWalk } from './chain-walk.js';
import type { FromWalkThread, ToWalkThread } from './walk-threads.js';

if (!parentPort) throw new Error('walk-worker.ts runs as a worker thread only');
serve(parentPort);

function serve(port: MessagePort): void {
  const walks = new Map<number, ChainWalk>();
  const send = (message: FromWalkThread) => port.postMessage(message);
  port.on('message', (message: ToWalkThread) => handle(message));

  function handle(message: ToWalkThread): void {
    const { id } = message;
    try {
      if (message.type === 'start') {
        walks.set(
          id,
          new ChainWalk(
            message.plan,
            (failure) => send({ type: 'fail', id, failure }),
            (rows) => send({ type: 'rows', id, rows }),
          ),
        );
        return;
      }
      const walk = walks.get(id);
      if (!walk) return;
      if (message.type === 'batch') {
        const data = Buffer.from(message.data, 0, message.length);
        for (let p = 0; p < data.length; ) {
          const end = tupleEnd(data, p);
          walk.row(data.subarray(p, end));
          p = end;
        }
        port.postMessage({ type: 'ack', id, data: message.data } satisfies FromWalkThread, [
          message.data,
        ]);
      } else {
        walks.delete(id);
        send({ type: 'done', id, summary: walk.finish() });
      }
    } catch (error) {
      walks.delete(id);
      const e = error as { message?: string; code?: string };
      send({ type: 'error', id, message: String(e?.message ?? error), code: e?.code ?? null });
    }
  }
}

/** Where the binary COPY tuple starting at `p` ends: its field count, then each length and value. */
function tupleEnd(data: Buffer, p: number): number {
  const fields = data.readUInt16BE(p);
  let q = p + 2;
  for (let f = 0; f < fields; f++) {
    const size = data.readInt32BE(q);
    q += 4 + Math.max(size, 0);
  }
  return q;
}
