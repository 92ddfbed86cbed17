import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { AuditSampler } from '../../src/processor/audit-sampler.js';
import {
  AuditSpanProcessor,
  type AuditSpanProcessorOptions,
} from '../../src/processor/audit-span-processor.js';
import type { AuditStore } from '../../src/store/audit-store.js';
import type { AuditWriterOptions } from '../../src/store/writer/audit-writer.js';

export const TEST_SERVICE = 'aitrail-test';

/** The building blocks a user with their own SDK setup would assemble, plus an in-memory exporter. */
export interface TestPipeline {
  processor: AuditSpanProcessor;
  exporter: InMemorySpanExporter;
  provider: TracerProvider;
  /** Spans the exporter received, by name. */
  exported(name?: string): ReadableSpan[];
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function startTestPipeline(
  store: AuditStore,
  options: {
    sampler?: Sampler;
    recordUnsampledSpans?: boolean;
    writer?: Omit<AuditWriterOptions, 'store'>;
    /** Recognisers, capture policy, redactors. */
    processor?: Omit<AuditSpanProcessorOptions, 'store' | 'writer' | 'writerOptions'>;
  } = {},
): TestPipeline {
  const exporter = new InMemorySpanExporter();
  const processor = new AuditSpanProcessor({
    ...options.processor,
    store,
    serviceName: TEST_SERVICE,
    writerOptions: { flushIntervalMs: 10, ...options.writer },
  });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': TEST_SERVICE }),
    sampler: new AuditSampler({
      root: options.sampler,
      recordUnsampledSpans: options.recordUnsampledSpans,
    }),
    spanProcessors: [processor, new SimpleSpanProcessor({ exporter })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return {
    processor,
    exporter,
    provider,
    exported: (name) =>
      exporter.getFinishedSpans().filter((s) => name === undefined || s.name === name),
    flush: () => provider.forceFlush(),
    async close() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
