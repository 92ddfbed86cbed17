import { type Tracer, type TracerProvider, trace } from '@opentelemetry/api';
import { VERSION } from '../version.js';

/** The instrumentation scope of the helpers' spans. */
export const INSTRUMENTATION_SCOPE = 'aitrail';

type GlobalProvider = TracerProvider & { getDelegate?(): TracerProvider };

/**
 * The helpers' tracer, looked up again only when the global tracer provider changes: asking the
 * SDK for it on every helper call builds a key string and does two Map lookups. The API's global
 * provider is a proxy; its delegate is the provider that makes spans.
 */
export class HelperTracer {
  private provider: TracerProvider | undefined;
  private tracer: Tracer | undefined;

  get(): Tracer {
    const global = trace.getTracerProvider() as GlobalProvider;
    const provider = global.getDelegate?.() ?? global;
    if (provider !== this.provider || this.tracer === undefined) {
      this.tracer = provider.getTracer(INSTRUMENTATION_SCOPE, VERSION);
      this.provider = provider;
    }
    return this.tracer;
  }
}
