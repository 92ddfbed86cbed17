import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface LoopbackSink {
  /** Every request received so far, in order. */
  readonly received: ReceivedRequest[];
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** A Sentry DSN whose ingest is this sink: whatever Sentry sends stays on this machine. */
  readonly sentryDsn: string;
  close(): Promise<void>;
}

/** An HTTP server on loopback that answers `{}` to everything and keeps what it was sent. */
export async function startLoopbackSink(): Promise<LoopbackSink> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    received,
    origin,
    sentryDsn: `http://public@127.0.0.1:${port}/1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The item types of the Sentry envelopes a sink received (`transaction`, `event`, `client_report`, …). */
export function sentryEnvelopeItems(sink: LoopbackSink): Array<{ type: string; body: string }> {
  return sink.received
    .filter((request) => request.path.startsWith('/api/1/envelope/'))
    .flatMap((request) => {
      const lines = request.body.split('\n');
      const items: Array<{ type: string; body: string }> = [];
      // An envelope is a header line, then (item header, item payload) pairs.
      for (let i = 1; i + 1 < lines.length; i += 2) {
        const header = JSON.parse(lines[i] as string) as { type?: string };
        items.push({ type: header.type ?? '', body: lines[i + 1] as string });
      }
      return items;
    });
}
