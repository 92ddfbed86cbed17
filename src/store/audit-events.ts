import { randomBytes } from 'node:crypto';
import type { AuditActor } from '../actions.js';
import type { AuditStore } from './audit-store.js';
import type { AiAuditMetadata } from './metadata.js';
import { AuditWriter } from './writer/audit-writer.js';
import type { CheckpointSigner } from './writer/checkpoint-signer.js';

/** aitrail's own actions on the trail: erasure, legal holds, retention. */
export const TRAIL_ACTIONS = {
  SUBJECT_ERASED: 'audit.subject_erased',
  LEGAL_HOLD_PLACED: 'audit.legal_hold_placed',
  LEGAL_HOLD_RELEASED: 'audit.legal_hold_released',
  RETENTION_APPLIED: 'audit.retention_applied',
} as const;

/** Who runs store maintenance when no operator is named. */
export const MAINTENANCE_ACTOR: AuditActor = { type: 'system', id: 'aitrail-maintenance' };

export interface TrailEventOptions {
  action: (typeof TRAIL_ACTIONS)[keyof typeof TRAIL_ACTIONS];
  actor?: AuditActor;
  tenantId?: string | null;
  subjectId?: string | null;
  resourceType: string;
  resourceId: string;
  metadata: AiAuditMetadata;
  /** Signs the checkpoint that closes the event's chain. */
  signer?: CheckpointSigner | null;
  serviceName?: string | null;
}

/**
 * Writes one audit event about the trail itself, in a chain of its own closed by a final
 * (signed, when a signer is given) checkpoint, and waits until it is stored. Personal values
 * in it (a reason, say) go to the vault like any other row's.
 */
export async function writeTrailEvent(
  store: AuditStore,
  options: TrailEventOptions,
): Promise<{ eventId: string; chainId: string }> {
  const writer = new AuditWriter({
    store,
    journalDir: null,
    // One short chain per call: a thread of its own would cost more than the row.
    thread: 'inline',
    serviceName: options.serviceName ?? 'aitrail',
    checkpoints: { signer: options.signer ?? null },
  });
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  const actor = options.actor ?? MAINTENANCE_ACTOR;
  const eventId = `${traceId}:${spanId}`;
  writer.enqueue({
    eventId,
    occurredAt: new Date().toISOString().replace('Z', '000Z'),
    tenantId: options.tenantId ?? null,
    actorType: actor.type,
    actorId: actor.id,
    subjectId: options.subjectId ?? null,
    action: options.action,
    outcome: 'success',
    resourceType: options.resourceType,
    resourceId: options.resourceId,
    conversationId: null,
    taskId: null,
    agentName: null,
    toolName: null,
    approvalId: null,
    metadata: { source: 'aitrail', ...options.metadata },
    traceId,
    spanId,
    serviceName: options.serviceName ?? 'aitrail',
  });
  await writer.shutdown();
  const stats = writer.stats();
  if (stats.written !== 1) {
    throw new Error(`the ${options.action} event could not be stored (${JSON.stringify(stats)})`);
  }
  return { eventId, chainId: writer.chainId };
}
