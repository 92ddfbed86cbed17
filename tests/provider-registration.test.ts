/**
 * initAuditTelemetry meets a host app that registered its own tracer provider first: it refuses
 * loudly, saying how to compose by hand, instead of starting and recording nothing; and a helper
 * whose span the app's sampler drops says so.
 */
import { trace } from '@opentelemetry/api';
import { AlwaysOffSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AitrailError } from '../src/errors.js';
import { recordAuditEvent } from '../src/index.js';
import { createAuditPipeline } from '../src/pipeline/audit-pipeline.js';
import { AuditSpanProcessor } from '../src/processor/audit-span-processor.js';
import { initAuditTelemetry } from '../src/telemetry/init.js';
import { whyNotRecording } from '../src/telemetry/registration.js';
import { openTestStore, scratchDir } from './support/stores.js';

// A pipeline per test: each warning is said once per pipeline, and every test must see its own.
let unregisterPipeline: () => void;
beforeEach(() => {
  unregisterPipeline = createAuditPipeline().register();
});

afterEach(() => {
  unregisterPipeline();
  trace.disable();
  vi.restoreAllMocks();
});

describe('a tracer provider registered before initAuditTelemetry', () => {
  it('makes initAuditTelemetry throw PROVIDER_ALREADY_REGISTERED with how to compose by hand', async () => {
    trace.setGlobalTracerProvider(new TracerProvider());
    const started = initAuditTelemetry({ dataDir: scratchDir(), handleSignals: false });
    await expect(started).rejects.toBeInstanceOf(AitrailError);
    await expect(started).rejects.toMatchObject({
      code: 'PROVIDER_ALREADY_REGISTERED',
      message: expect.stringMatching(
        /TracerProvider.*aitrail\/sdk.*AuditSampler|createAuditPipeline/s,
      ),
    });
  });

  it('names the sampler of that provider when it drops an audit span', () => {
    trace.setGlobalTracerProvider(new TracerProvider({ sampler: new AlwaysOffSampler() }));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    recordAuditEvent({
      action: 'billing.refund_issued',
      actor: { type: 'service', id: 'billing' },
    });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(
      /"billing.refund_issued" was not recorded: the registered tracer provider \(TracerProvider\) sampled the span out/,
    );
  });

  it('says initAuditTelemetry has not run when no provider is registered', () => {
    expect(whyNotRecording()).toMatch(
      /no tracer provider is registered: initAuditTelemetry\(\) has not run/,
    );
  });

  it('says when a recorded audit span reaches no AuditSpanProcessor, since it makes no row', () => {
    trace.setGlobalTracerProvider(new TracerProvider());
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    recordAuditEvent({
      action: 'billing.refund_issued',
      actor: { type: 'service', id: 'billing' },
    });
    recordAuditEvent({
      action: 'billing.refund_issued',
      actor: { type: 'service', id: 'billing' },
    });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(
      /"billing.refund_issued" makes no audit row: the registered tracer provider \(TracerProvider\) has no AuditSpanProcessor: add one to its spanProcessors, or make sure the provider that has one is the registered one/,
    );
  });

  it('stays quiet when the registered provider carries an AuditSpanProcessor', async () => {
    const db = await openTestStore('postgres');
    const processor = new AuditSpanProcessor({ store: db.store });
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [processor] }));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      recordAuditEvent({
        action: 'billing.refund_issued',
        actor: { type: 'service', id: 'billing' },
      });
      await processor.forceFlush();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      await processor.shutdown();
      await db.close();
    }
  });
});
