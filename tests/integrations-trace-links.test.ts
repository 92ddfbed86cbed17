import { describe, expect, it } from 'vitest';
import { traceUiUrl, withTraceUrl } from '../src/cli/format.js';
import type { AuditLogEntry } from '../src/entries/store.js';

const entry = { traceId: '0af7651916cd43dd8448eb211c80319c' } as AuditLogEntry;

describe('Jaeger links in the demo and aitrail logs', () => {
  it('gives no link when no trace is exported', () => {
    expect(traceUiUrl({})).toBeNull();
    expect(withTraceUrl(entry, traceUiUrl({}))).not.toHaveProperty('traceUrl');
  });

  it('links to the local Jaeger when an OTLP endpoint exports the traces', () => {
    const url = traceUiUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' });
    expect(withTraceUrl(entry, url).traceUrl).toBe(`http://localhost:16686/trace/${entry.traceId}`);
    expect(
      traceUiUrl({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }),
    ).toBe('http://localhost:16686');
  });

  it('uses JAEGER_UI_URL when given', () => {
    expect(traceUiUrl({ JAEGER_UI_URL: 'https://jaeger.example.com/' })).toBe(
      'https://jaeger.example.com/',
    );
  });
});
