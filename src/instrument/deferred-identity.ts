import type { Attributes } from '@opentelemetry/api';
import { AUDIT_ATTRS, GEN_AI_ATTRS } from '../attributes.js';
import { type AuditContext, subjectOf } from './audit-context.js';

/**
 * Where `AuditSpanProcessor` keeps a span's audit context when it defers stamping: a property of
 * the span object, not an attribute, so it costs one store per span and no exporter sees it.
 * A registered symbol, so every copy of aitrail in the process (and every pipeline) reads it.
 */
const AUDIT_CONTEXT_SLOT = Symbol.for('aitrail.audit_context');

type Slotted = { [AUDIT_CONTEXT_SLOT]?: AuditContext };

/** Keeps `audit` beside `span`; written for every span (even as undefined) so spans share a shape. */
export function holdIdentity(span: object, audit: AuditContext | undefined): void {
  (span as Slotted)[AUDIT_CONTEXT_SLOT] = audit;
}

export function heldIdentity(span: object): AuditContext | undefined {
  return (span as Slotted)[AUDIT_CONTEXT_SLOT];
}

/**
 * Writes the acting identity of `audit` with `set`, for each attribute `attributes` lacks: the
 * actor (and the subject it implies) unless an actor is there, the subject, conversation and
 * tenant unless they are.
 */
export function writeIdentity(
  attributes: Attributes,
  audit: AuditContext,
  set: (key: string, value: string) => void,
): void {
  if (attributes[AUDIT_ATTRS.ACTOR_ID] === undefined) {
    set(AUDIT_ATTRS.ACTOR_TYPE, audit.actor.type);
    set(AUDIT_ATTRS.ACTOR_ID, audit.actor.id);
    const subject = subjectOf(audit.actor, audit.subject);
    if (subject !== undefined && attributes[AUDIT_ATTRS.SUBJECT_ID] === undefined)
      set(AUDIT_ATTRS.SUBJECT_ID, subject);
  }
  if (
    audit.conversationId !== undefined &&
    attributes[GEN_AI_ATTRS.CONVERSATION_ID] === undefined
  ) {
    set(GEN_AI_ATTRS.CONVERSATION_ID, audit.conversationId);
  }
  if (audit.tenantId !== undefined && attributes[AUDIT_ATTRS.TENANT_ID] === undefined) {
    set(AUDIT_ATTRS.TENANT_ID, audit.tenantId);
  }
}

/** The identity attributes a span's exported copy gains from its held audit context, if any. */
export function deferredIdentity(span: object, own: Attributes): Attributes | undefined {
  const audit = heldIdentity(span);
  if (audit === undefined) return undefined;
  const identity: Attributes = {};
  writeIdentity(own, audit, (key, value) => {
    identity[key] = value;
  });
  return identity;
}
