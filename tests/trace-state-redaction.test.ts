import { createTraceState, ROOT_CONTEXT, type SpanContext, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedactingSpanExporter } from '../src/sanitize/index.js';
import { type OtlpReceiver, startOtlpReceiver } from './support/otlp-receiver.js';

/**
 * `tracestate` arrives from whoever called the app and the OTLP exporter ships it with every span
 * and link, so it is an entry point like an attribute: a secret in it must not reach the receiver.
 */

const OPENAI_KEY = 'sk-proj-FAKEabcdefghijklmnopqrstuvwxyz0123456789';
const TOKEN = 'ghp_FAKE0123456789abcdefghijklmnopqrstuv';
const EMAIL = 'bob.jones@example.org';
/** Entries the W3C examples use: opaque vendor values that must survive. */
const BENIGN = ['rojo=00f067aa0ba902b7', 'congo=t61rcWkgMzE'];

let receiver: OtlpReceiver;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});

afterAll(async () => {
  await receiver.close();
});

function remoteParent(state: string): SpanContext {
  return {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: 1,
    isRemote: true,
    traceState: createTraceState(state),
  };
}

/** Everything the receiver got, as text: raw bodies (protobuf strings are stored as-is) and JSON. */
function wire(): string {
  return (
    receiver.received.httpRequests.map((request) => request.body.toString('latin1')).join('\n') +
    JSON.stringify(receiver.received.traceRequests)
  );
}

async function exportUnder(parentState: string, linkState: string): Promise<void> {
  receiver.reset();
  const provider = new TracerProvider({
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new RedactingSpanExporter(
          new OTLPTraceExporter({ url: `${receiver.endpoint}/v1/traces` }),
        ),
      }),
    ],
  });
  const tracer = provider.getTracer('trace-state-test');
  const parent = trace.setSpanContext(ROOT_CONTEXT, remoteParent(parentState));
  tracer
    .startSpan(
      'handle request',
      { links: [{ context: { ...remoteParent(linkState), spanId: 'b7ad6b7169203331' } }] },
      parent,
    )
    .end();
  await provider.forceFlush();
  await provider.shutdown();
}

describe('tracestate on exported spans', () => {
  it('drops the entries holding a secret or personal data, on the span and on its links', async () => {
    await exportUnder(
      [BENIGN[0], `vendor=${OPENAI_KEY}`, `gh=${TOKEN}`, BENIGN[1]].join(','),
      [`mail=${EMAIL}`, BENIGN[1], `api_key=abc123xyz`].join(','),
    );
    const text = wire();
    expect(receiver.received.traceRequests.length).toBeGreaterThan(0);
    for (const secret of [OPENAI_KEY, TOKEN, EMAIL, 'abc123xyz'])
      expect(text).not.toContain(secret);
    for (const entry of BENIGN) expect(text).toContain(entry);
  });

  it('ships a tracestate with nothing to redact exactly as it came', async () => {
    const state = BENIGN.join(',');
    await exportUnder(state, BENIGN[0] as string);
    expect(wire()).toContain(state);
  });
});
