import { describe, expect, it } from 'vitest';
import { initAuditTelemetry } from '../src/index.js';

describe('initAuditTelemetry options', () => {
  it.each([
    [null, /options must be an object/],
    ['postgres://x', /options must be an object/],
    [{ servicename: 'x' }, /unknown option "servicename"/],
    [{ serviceName: 5 }, /serviceName must be a non-empty string/],
    [{ serviceName: '' }, /serviceName must be a non-empty string/],
    [{ migrate: 'no' }, /migrate must be true or false/],
    [{ dataDir: 5 }, /dataDir must be a non-empty string/],
    [{ signingKey: 12345 }, /signingKey must be a string/],
    [{ sampler: {} }, /sampler must be an OpenTelemetry Sampler/],
    [{ delivery: { batchsize: 10 } }, /unknown option "delivery.batchsize"/],
    [
      { delivery: { shutdownDeadlineMs: -5 } },
      /delivery.shutdownDeadlineMs must be a positive number/,
    ],
    [
      { delivery: { flushIntervalMs: '100' } },
      /delivery.flushIntervalMs must be a positive number, got the string "100"/,
    ],
    [{ captureContent: 'everything' }, /captureContent must be one of none, redacted, full/],
    [{ otlpEndpoint: 'localhost:4318' }, /otlpEndpoint must be an http\(s\) URL/],
    [{ signingKey: 'short' }, /at least 16 characters/],
  ])('rejects %j with a TypeError that names the option', async (options, message) => {
    const attempt = initAuditTelemetry(options as never);
    await expect(attempt).rejects.toThrow(TypeError);
    await expect(initAuditTelemetry(options as never)).rejects.toThrow(message);
  });
});
