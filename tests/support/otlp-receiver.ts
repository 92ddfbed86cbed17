import { createServer, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

// @elastic/mockotlpserver is CommonJS without type declarations: load it through require and
// describe the part we use.
interface MockOtlpServer {
  httpUrl: URL | null;
  start(): Promise<void>;
  close(): Promise<void>;
}
interface MockOtlpServerModule {
  MockOtlpServer: new (options: {
    services: Array<'http' | 'grpc' | 'ui'>;
    httpHostname: string;
    httpPort: number;
    logLevel?: string;
    onTrace?: (request: unknown) => void;
    onRequest?: (request: { transport: string; method: string; path: string }) => void;
  }) => MockOtlpServer;
  /** Attributes as a key → value map; ids hex (http/json, gRPC) or base64 (http/protobuf). */
  normalizeTrace(request: unknown): NormalizedTraceRequest;
}

/** One span as `normalizeTrace` gives it: attributes as key → value maps, ids hex or base64. */
export interface NormalizedSpan {
  traceId: unknown;
  spanId: unknown;
  parentSpanId?: unknown;
  name: string;
  attributes?: Record<string, unknown>;
  events?: Array<{ name: string; attributes?: Record<string, unknown> }>;
  links?: Array<{ attributes?: Record<string, unknown> }>;
  status?: { code?: unknown; message?: string };
}

export interface NormalizedTraceRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: Record<string, unknown> };
    scopeSpans?: Array<{
      scope?: { name?: string; version?: string };
      spans?: NormalizedSpan[];
    }>;
  }>;
}

const mockotlpserver = createRequire(import.meta.url)(
  '@elastic/mockotlpserver',
) as MockOtlpServerModule;

export const normalizeTrace = mockotlpserver.normalizeTrace;

/** One HTTP request as it arrived: what the wire carried, before any decoding. */
export interface RawRequest {
  method: string;
  path: string;
  contentType: string;
  /** The body, gunzipped when the request said `content-encoding: gzip`. */
  body: Buffer;
}

/** What the receiver got: the decoded trace requests and the raw HTTP requests behind them. */
export interface Received {
  traceRequests: unknown[];
  httpRequests: RawRequest[];
}

export interface OtlpReceiver {
  /** Base URL to give an OTLP/HTTP exporter (`/v1/traces` is appended by the exporter or caller). */
  readonly endpoint: string;
  /** What arrived since the last `reset()`. */
  readonly received: Received;
  reset(): void;
  close(): Promise<void>;
}

/**
 * A real OTLP/HTTP receiver on loopback (`@elastic/mockotlpserver`, which decodes http/json and
 * http/protobuf), behind a pass-through front that keeps each raw request body: a leak search
 * must see the bytes on the wire, not only what a decoder chose to show.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  let received: Received = { traceRequests: [], httpRequests: [] };
  const mock = new mockotlpserver.MockOtlpServer({
    services: ['http'],
    httpHostname: '127.0.0.1',
    httpPort: 0,
    logLevel: 'warn',
    onTrace: (decoded) => received.traceRequests.push(decoded),
  });
  await mock.start();
  const upstreamPort = Number((mock.httpUrl as URL).port);
  const front: Server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      received.httpRequests.push({
        method: incoming.method ?? '',
        path: incoming.url ?? '',
        contentType: String(incoming.headers['content-type'] ?? ''),
        body: incoming.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body,
      });
      // The mock decodes (and calls onTrace) before it answers, so once the exporter has its
      // answer the decoded request is recorded too.
      const forward = request(
        {
          host: '127.0.0.1',
          port: upstreamPort,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (upstream) => {
          response.writeHead(upstream.statusCode ?? 502, upstream.headers);
          upstream.pipe(response);
        },
      );
      forward.on('error', () => {
        response.writeHead(502);
        response.end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const { port } = front.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get received() {
      return received;
    },
    reset() {
      received = { traceRequests: [], httpRequests: [] };
    },
    async close() {
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await mock.close();
    },
  };
}
