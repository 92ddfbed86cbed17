import type { HrTime } from '@opentelemetry/api';

/** `[seconds, nanoseconds]` → ISO 8601 UTC with microseconds, the precision of timestamptz. */
export function hrTimeToIsoMicros([seconds, nanos]: HrTime): string {
  const whole = new Date(seconds * 1000).toISOString().slice(0, 19);
  return `${whole}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

export function hrTimeToMillis([seconds, nanos]: HrTime): number {
  return Math.round((seconds * 1e3 + nanos / 1e6) * 1000) / 1000;
}
