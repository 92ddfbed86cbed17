/**
 * The two ways the ingest benchmark drives the public API, shared with `profile-ingest.ts` so the
 * profile shows the run the table measures.
 *
 * - `app`: what an application does: inside one `withAuditContext`, `await traceToolCall(...)`
 *   one call after another, then `flush()`. The awaits only run microtasks, so the event loop
 *   (timers, sockets, `setImmediate`) does not turn until the loop ends: whatever the writer does
 *   on the main thread's event loop waits for the producer, or runs on its turn.
 * - `paced`: requests of CHUNK calls with a turn of the event loop after each, and never more
 *   than HIGH_WATER records waiting in the writer: what the pipeline sustains when the producer
 *   leaves it room, the figure this benchmark reported before the `app` case existed.
 */
import { withAuditContext } from '../src/instrument/audit-context.js';
import { traceToolCall } from '../src/instrument/tool-call.js';
import type { AuditTelemetry } from '../src/telemetry/init.js';
import { seededRandom, toolParams } from './fixtures.js';
import { sleep, yieldToEventLoop } from './runtime.js';

export type IngestLoad = 'app' | 'paced';

/** Calls per request in the paced load; also how many calls share a conversation id. */
const CHUNK = 64;
const HIGH_WATER = 10_000;

const PARAMS_POOL = (() => {
  const random = seededRandom(2);
  return Array.from({ length: 256 }, () => toolParams(random));
})();

function toolCall(index: number): Promise<string> {
  return traceToolCall(
    {
      toolName: 'search_orders',
      conversationId: `conv-${Math.floor(index / CHUNK)}`,
      agentName: 'support',
      params: PARAMS_POOL[index % PARAMS_POOL.length],
    },
    () => 'ok',
  );
}

/** Emits `records` tool-call records the way `load` says (the caller then calls `flush()`). */
export async function emitToolCalls(
  telemetry: AuditTelemetry,
  records: number,
  load: IngestLoad,
): Promise<void> {
  if (load === 'app') {
    await withAuditContext(
      { tenantId: 'tenant-7', actor: { type: 'user', id: 'user-1' } },
      async () => {
        for (let i = 0; i < records; i++) await toolCall(i);
      },
    );
  } else {
    for (let sent = 0; sent < records; sent += CHUNK) {
      const size = Math.min(CHUNK, records - sent);
      await withAuditContext(
        { tenantId: 'tenant-7', actor: { type: 'user', id: `user-${sent % 997}` } },
        async () => {
          for (let i = 0; i < size; i++) await toolCall(sent + i);
        },
      );
      while (telemetry.stats().queueDepth > HIGH_WATER) await sleep(1);
      await yieldToEventLoop();
    }
  }
}
