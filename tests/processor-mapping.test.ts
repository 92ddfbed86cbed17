import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceToolCall } from '../src/instrument/tool-call.js';
import { activePipelinePolicy } from '../src/pipeline/pipeline-policy.js';
import { AuditSampler } from '../src/processor/audit-sampler.js';
import { RedactedTextMemo } from '../src/processor/redacted-text-memo.js';
import { spanToRecords } from '../src/processor/span-to-records.js';
import { createRedactor } from '../src/sanitize/redactor.js';

/** The processor's memo of redacted short texts changes how often the redactor runs, not the rows. */
describe('mapping spans with the redacted-text memo', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    sampler: new AuditSampler(),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    for (let i = 0; i < 20; i++) {
      await traceToolCall(
        {
          toolName: 'notify_jane.doe@example.com',
          agentName: 'support',
          conversationId: `conv-${i % 3}`,
          actor: { type: 'user', id: 'user-1' },
          params: { orderId: i },
        },
        () => 'ok',
      );
    }
  });

  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it('gives every row what the redactor gives, a repeated secret redacted in each', () => {
    const policy = activePipelinePolicy();
    const env = { serviceName: 'test', redactor: policy.redactor, sanitized: policy.sanitized };
    const memo = new RedactedTextMemo(policy.redactor);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(20);
    for (const span of spans) {
      const [withMemo] = spanToRecords(span, { ...env, memo });
      expect(withMemo).toEqual(spanToRecords(span, env)[0]);
      expect(withMemo?.toolName).not.toContain('jane.doe@example.com');
      expect(JSON.stringify(withMemo)).not.toContain('jane.doe@example.com');
    }
  });

  it('is used only with the redactor it was filled by', () => {
    const policy = activePipelinePolicy();
    // A memo filled by a redactor that lets everything through must never serve another's rows.
    const passThrough = { ...createRedactor(), redactText: (text: string) => text };
    const memo = new RedactedTextMemo(passThrough);
    memo.redact('notify_jane.doe@example.com');
    const env = {
      serviceName: 'test',
      redactor: policy.redactor,
      sanitized: policy.sanitized,
      memo,
    };
    const [record] = spanToRecords(exporter.getFinishedSpans()[0] as never, env);
    expect(record?.toolName).not.toContain('jane.doe@example.com');
  });
});
