import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeOpenAI {
  server: Server;
  /** `http://127.0.0.1:{port}/v1`, for `new OpenAI({ baseURL })`. */
  baseURL: string;
  close(): Promise<void>;
}

/**
 * An OpenAI-compatible Chat Completions endpoint on loopback. Every request gets the same
 * answer (model name echoed with a date suffix, 12 prompt and 5 completion tokens), so the
 * adapter tests run the real client and instrumentations without any network.
 */
export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const model = (JSON.parse(body || '{}') as { model?: string }).model ?? 'unknown';
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id: 'chatcmpl-123',
          object: 'chat.completion',
          created: 1_700_000_000,
          model: `${model}-2024-07-18`,
          choices: [
            {
              index: 0,
              finish_reason: 'stop',
              message: { role: 'assistant', content: 'Your order ships tomorrow.' },
            },
          ],
          usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    baseURL: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise((resolve) => {
        // The client keeps connections alive; close() alone would wait for them.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
