/**
 * A row counter on stderr for long exports, only when a person watches: stderr is a terminal
 * and stdout is not (it goes to a file or a pipe). Redrawn at most ten times a second.
 */
export function rowProgress(
  out: NodeJS.WritableStream & { isTTY?: boolean },
  err: NodeJS.WritableStream & { isTTY?: boolean },
  label: string,
): { update(count: number): void; done(): void } {
  const enabled = err.isTTY === true && out.isTTY !== true;
  let last = 0;
  return {
    update(count) {
      if (!enabled) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      err.write(`\r${label}: ${count} rows`);
    },
    done() {
      if (enabled && last > 0) err.write('\r\x1b[K');
    },
  };
}
