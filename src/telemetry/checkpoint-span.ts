import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { CHECKPOINT_ATTRS } from '../attributes.js';
import type { CheckpointRecord } from '../store/audit-record.js';
import { VERSION } from '../version.js';

/**
 * Emits a stored tree head as a root span, so the trace backend keeps an independent copy:
 * deleting a chain together with its checkpoint rows still leaves this trail behind.
 */
export function emitCheckpointSpan(checkpoint: CheckpointRecord): void {
  const attributes: Record<string, string | number> = {
    [CHECKPOINT_ATTRS.CHAIN_ID]: checkpoint.chainId,
    [CHECKPOINT_ATTRS.SEQ]: checkpoint.chainSeq,
    [CHECKPOINT_ATTRS.HEAD_HASH]: checkpoint.headHash,
    [CHECKPOINT_ATTRS.CREATED_AT]: checkpoint.createdAt,
    [CHECKPOINT_ATTRS.ALGORITHM]: checkpoint.algorithm,
    [CHECKPOINT_ATTRS.KIND]: checkpoint.kind,
    [CHECKPOINT_ATTRS.HASH_VERSION]: checkpoint.hashVersion,
  };
  if (checkpoint.rootHash !== null) attributes[CHECKPOINT_ATTRS.ROOT_HASH] = checkpoint.rootHash;
  if (checkpoint.prevCheckpointHash !== null)
    attributes[CHECKPOINT_ATTRS.PREV_CHECKPOINT_HASH] = checkpoint.prevCheckpointHash;
  if (checkpoint.serviceName !== null)
    attributes[CHECKPOINT_ATTRS.SERVICE_NAME] = checkpoint.serviceName;
  if (checkpoint.keyId !== null) attributes[CHECKPOINT_ATTRS.KEY_ID] = checkpoint.keyId;
  if (checkpoint.signature !== null) attributes[CHECKPOINT_ATTRS.SIGNATURE] = checkpoint.signature;
  trace
    .getTracer('aitrail', VERSION)
    .startSpan('aitrail.checkpoint', { kind: SpanKind.INTERNAL, attributes }, ROOT_CONTEXT)
    .end();
}
