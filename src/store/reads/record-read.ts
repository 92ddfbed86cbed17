import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { AitrailError } from '../../errors.js';
import type { JsonValue } from '../../sanitize/types.js';
import type { AuditStore } from '../audit-store.js';
import { AuditWriter } from '../writer/audit-writer.js';
import type { CheckpointSigner } from '../writer/checkpoint-signer.js';

export const AUDIT_READ_ACTION = 'audit.read';

/** Who reads, for the `audit.read` record every query writes. */
export interface ReadOptions {
  /** The person or service reading (e.g. `user:auditor@example.com`); default the OS user. */
  reader?: string;
  /** Signs the reader chain's checkpoint, like the writer's; default unsigned. */
  signer?: CheckpointSigner | null;
  /**
   * Where the `audit.read` row is written; default the store being read. A read-only role
   * (the shipped `aitrail_reader`, `aitrail_auditor`) cannot write: give a store opened with
   * the writer role.
   */
  readLog?: AuditStore;
}

export interface ReadEvent {
  /** Which query: `logs`, `explain`, `approvals`, `stats`, `subject-export`, `evidence`. */
  query: string;
  /** The filter as given (ids and bounds; never row content). */
  filter: Record<string, unknown>;
  rows: number;
  tenantId?: string;
  /** The data subject an export was about. */
  subjectId?: string;
}

export const READ_OPTION_KEYS = ['reader', 'signer', 'readLog'] as const;

export function checkReadOptions(fn: string, options: ReadOptions): void {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`${fn}: options must be an object`);
  for (const key of Object.keys(options)) {
    if (!(READ_OPTION_KEYS as readonly string[]).includes(key))
      throw new TypeError(
        `${fn}: unknown option "${key}" (allowed: ${READ_OPTION_KEYS.join(', ')})`,
      );
  }
  if (options.reader !== undefined && (typeof options.reader !== 'string' || options.reader === ''))
    throw new TypeError(`${fn}: reader must be a non-empty string`);
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

function jsonFilter(filter: Record<string, unknown>): JsonValue {
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    out[key] = value instanceof Date ? value.toISOString() : (value as JsonValue);
  }
  return out;
}

/**
 * Writes one `audit.read` row into the trail itself, through an AuditWriter of its own (a
 * short reader chain closed by a final checkpoint). The query functions call this before
 * they return, so a read through the typed API or the CLI cannot skip it; when the row
 * cannot be written the read fails (`AUDIT_READ_NOT_RECORDED`).
 */
export async function recordRead(
  store: AuditStore,
  event: ReadEvent,
  options: ReadOptions = {},
): Promise<void> {
  const [role] = await store
    .query<{ current_user: string }>('select current_user')
    .catch(() => [{ current_user: 'unknown' }]);
  const os = osUser();
  const writer = new AuditWriter({
    store: options.readLog ?? store,
    journalDir: null,
    // One short chain per call: a thread of its own would cost more than the row.
    thread: 'inline',
    serviceName: 'aitrail-reader',
    checkpoints: { signer: options.signer ?? null },
  });
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  const reader = options.reader ?? `os:${os}`;
  writer.enqueue({
    eventId: `${traceId}:${spanId}`,
    occurredAt: new Date().toISOString().replace('Z', '000Z'),
    tenantId: event.tenantId ?? null,
    actorType: options.reader === undefined ? 'system' : 'user',
    actorId: reader,
    action: AUDIT_READ_ACTION,
    outcome: 'success',
    resourceType: event.subjectId === undefined ? 'audit_logs' : 'data_subject',
    // The subject an export was about is this row's data subject, not its resource: the writer
    // moves it to the vault (the chain holds a commitment), so erasing the subject erases it
    // here too, and exportSubject finds the read through the vault's subject index.
    resourceId: null,
    conversationId: null,
    taskId: null,
    agentName: null,
    toolName: null,
    approvalId: null,
    subjectId: event.subjectId ?? null,
    metadata: {
      query: event.query,
      filter: jsonFilter(event.filter),
      rows: event.rows,
      databaseRole: role?.current_user ?? 'unknown',
      osUser: os,
      source: 'aitrail-reader',
    },
    traceId,
    spanId,
    serviceName: 'aitrail-reader',
  });
  try {
    await writer.shutdown({ deadlineMs: 5_000 });
  } catch (error) {
    throw new AitrailError(
      'AUDIT_READ_NOT_RECORDED',
      `the read was not recorded in the trail (${(error as Error).message}); pass readLog (a store opened with the writer role), or set AITRAIL_READ_LOG_URL for the CLI`,
      { cause: error },
    );
  }
  const stats = writer.stats();
  if (stats.written < 1) {
    throw new AitrailError(
      'AUDIT_READ_NOT_RECORDED',
      'the read was not recorded in the trail: this role may not insert into audit_logs; pass readLog (a store opened with the writer role), or set AITRAIL_READ_LOG_URL for the CLI',
    );
  }
}
