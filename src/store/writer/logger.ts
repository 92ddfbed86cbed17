/** Where aitrail reports trouble. Defaults to stderr; never silent about loss. */
export interface AuditLogger {
  warn(message: string): void;
  error(message: string): void;
}

export const consoleLogger: AuditLogger = {
  warn: (message) => console.warn(`aitrail: ${message}`),
  error: (message) => console.error(`aitrail: ${message}`),
};

/** Repeats of the same message within `intervalMs` are counted and summarised, not printed. */
export function rateLimited(logger: AuditLogger, intervalMs = 30_000): AuditLogger {
  const last = new Map<string, { at: number; suppressed: number }>();
  const emit = (level: keyof AuditLogger, message: string) => {
    // Counts and attempt numbers vary between repeats of the same problem.
    const key = message.replace(/\d+/g, '#').slice(0, 80);
    const now = Date.now();
    const seen = last.get(key);
    if (seen && now - seen.at < intervalMs) {
      seen.suppressed += 1;
      return;
    }
    const suffix = seen?.suppressed ? ` (${seen.suppressed} similar messages suppressed)` : '';
    last.set(key, { at: now, suppressed: 0 });
    logger[level](message + suffix);
  };
  return { warn: (m) => emit('warn', m), error: (m) => emit('error', m) };
}
