import type { Attributes, Context } from '@opentelemetry/api';
import { AUDIT_ATTRS, GEN_AI_ATTRS } from '../attributes.js';
import { type AuditContext, getAuditContext, subjectOf } from './audit-context.js';

/**
 * Where `AuditSpanProcessor` keeps the context a span started in when it defers stamping: a
 * property of the span object, not an attribute, so it costs one store per span and no exporter
 * sees it. The context, not the audit context read from it: most spans are never asked, so the
 * read waits until one is (an exported copy, a span that becomes a record). Contexts are
 * immutable, so it is the one the span started in; it lives as long as the span does.
 * A registered symbol, so every copy of aitrail in the process (and every pipeline) reads it.
 */
const START_CONTEXT_SLOT = Symbol.for('aitrail.audit_start_context');

type Slotted = { [START_CONTEXT_SLOT]?: Context };

/**
 * Keeps the context `span` started in beside it, to read its audit context when asked. False
 * when the span refuses new properties: the caller then stamps at once.
 */
export function holdIdentity(span: object, startContext: Context): boolean {
  try {
    (span as Slotted)[START_CONTEXT_SLOT] = startContext;
    return true;
  } catch {
    return false;
  }
}

export function heldIdentity(span: object): AuditContext | undefined {
  const startContext = (span as Slotted)[START_CONTEXT_SLOT];
  return startContext === undefined ? undefined : getAuditContext(startContext);
}

/** Where identity attributes are written: a span, or a collector for an exported copy. */
export interface AttributeTarget {
  setAttribute(key: string, value: string): unknown;
}

/**
 * Writes the acting identity of `audit` onto `target`, for each attribute `attributes` lacks: the
 * actor (and the subject it implies) unless an actor is there, the subject, conversation and
 * tenant unless they are.
 */
export function writeIdentity(
  attributes: Attributes,
  audit: AuditContext,
  target: AttributeTarget,
): void {
  if (attributes[AUDIT_ATTRS.ACTOR_ID] === undefined) {
    target.setAttribute(AUDIT_ATTRS.ACTOR_TYPE, audit.actor.type);
    target.setAttribute(AUDIT_ATTRS.ACTOR_ID, audit.actor.id);
    const subject = subjectOf(audit.actor, audit.subject);
    if (subject !== undefined && attributes[AUDIT_ATTRS.SUBJECT_ID] === undefined)
      target.setAttribute(AUDIT_ATTRS.SUBJECT_ID, subject);
  }
  if (
    audit.conversationId !== undefined &&
    attributes[GEN_AI_ATTRS.CONVERSATION_ID] === undefined
  ) {
    target.setAttribute(GEN_AI_ATTRS.CONVERSATION_ID, audit.conversationId);
  }
  if (audit.tenantId !== undefined && attributes[AUDIT_ATTRS.TENANT_ID] === undefined) {
    target.setAttribute(AUDIT_ATTRS.TENANT_ID, audit.tenantId);
  }
}

/** The identity attributes a span's exported copy gains from its held audit context, if any. */
export function deferredIdentity(span: object, own: Attributes): Attributes | undefined {
  const audit = heldIdentity(span);
  if (audit === undefined) return undefined;
  const identity: Attributes = {};
  writeIdentity(own, audit, {
    setAttribute(key, value) {
      identity[key] = value;
    },
  });
  return identity;
}
