/**
 * Sentry 10 in an app on the OpenTelemetry 3.x line (api 1.10). Sentry 10 depends on
 * `@opentelemetry/api` below 1.10, so npm installs it a copy of its own, and its default set-up
 * registers the tracer provider through that copy, where aitrail's copy cannot see it: nothing is
 * recorded, whatever Sentry samples. aitrail must say so, naming Sentry 10 and the way out (the
 * working Sentry 10 composition, on the 2.x line, is tests/integrations-otel-2x.test.ts).
 */
import { createRequire } from 'node:module';
import { trace } from '@opentelemetry/api';
import * as Sentry10 from 'sentry-v10';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { queryAuditLogs } from '../src/entries/store.js';
import { recordAuditEvent } from '../src/index.js';
import { createAuditPipeline } from '../src/pipeline/audit-pipeline.js';
import { AuditSpanProcessor } from '../src/processor/audit-span-processor.js';
import { initAuditTelemetry } from '../src/telemetry/init.js';
import { testDatabaseUrl } from './support/postgres.js';
import { openTestStore, scratchDir, type TestStore } from './support/stores.js';

// Sentry falls back to SENTRY_DSN: only a loopback sink (or nothing) may receive anything.
delete process.env.SENTRY_DSN;

/** The `@opentelemetry/api` copy npm installed for Sentry 10 (1.9), to undo its registrations. */
const sentryApi = createRequire(createRequire(import.meta.url).resolve('sentry-v10/package.json'))(
  '@opentelemetry/api',
) as typeof import('@opentelemetry/api');

describe('Sentry 10 on the OpenTelemetry 3.x line', () => {
  let db: TestStore | undefined;
  let warn: MockInstance<typeof console.warn>;
  let unregisterPipeline: () => void;

  beforeEach(() => {
    unregisterPipeline = createAuditPipeline().register(); // its own once-only warnings
    warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  });

  afterEach(async () => {
    await Sentry10.close(1000);
    sentryApi.trace.disable();
    sentryApi.context.disable();
    sentryApi.propagation.disable();
    trace.disable();
    await db?.close();
    db = undefined;
    unregisterPipeline();
    vi.restoreAllMocks();
  });

  it('its own set-up with openTelemetrySpanProcessors records nothing at tracesSampleRate 1, and the helper names Sentry 10 and the way out', async () => {
    db = await openTestStore('postgres');
    const audit = new AuditSpanProcessor({ store: db.store });
    Sentry10.init({ tracesSampleRate: 1, openTelemetrySpanProcessors: [audit] as never[] });
    recordAuditEvent({
      action: 'billing.refund_issued',
      actor: { type: 'service', id: 'billing' },
    });
    await audit.forceFlush();
    expect(await queryAuditLogs(db.store, { limit: 10 })).toEqual([]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(
      /"billing.refund_issued" was not recorded: two copies of @opentelemetry\/api are installed: @opentelemetry\/api 1\.9\.\d+ registered the tracer provider.*Sentry 10\.\d+\.\d+ is loaded: it depends on @opentelemetry\/api below 1\.10.*With OpenTelemetry 3\.x \(api 1\.10\) use Sentry 11/,
    );
    await audit.shutdown();
  });

  it('initAuditTelemetry after Sentry.init refuses, naming Sentry 10', async () => {
    Sentry10.init({ tracesSampleRate: 0.1 });
    await expect(
      initAuditTelemetry({
        databaseUrl: await testDatabaseUrl(),
        dataDir: scratchDir(),
        handleSignals: false,
      }),
    ).rejects.toMatchObject({
      code: 'PROVIDER_ALREADY_REGISTERED',
      message: expect.stringMatching(
        /@opentelemetry\/api 1\.9\.\d+ registered the tracer provider.*Sentry 10\.\d+\.\d+ is loaded/s,
      ),
    });
  });
});
