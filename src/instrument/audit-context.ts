import { type Context, context, createContextKey } from '@opentelemetry/api';
import { ACTOR_TYPES, type AuditActor } from '../actions.js';
import { checkActor, checkOptionalString, checkStrictKeys } from './options.js';

/** Who is acting: stored in the OTel context, so it follows `await`, `Promise.all` and timers. */
export interface AuditContext {
  tenantId?: string;
  actor: AuditActor;
  /** The data subject everything inside is about (a string id); default the actor when a user. */
  subject?: string;
  /** Stamped as `gen_ai.conversation.id` on helper records made inside. */
  conversationId?: string;
}

const AUDIT_CONTEXT_KEY = createContextKey('aitrail.audit_context');

export function getAuditContext(ctx: Context = context.active()): AuditContext | undefined {
  return ctx.getValue(AUDIT_CONTEXT_KEY) as AuditContext | undefined;
}

/**
 * Runs `fn` with `actor` (and `tenantId`) as the identity of everything it does: every span
 * started inside it, ours or a third-party library's, is stamped with `audit.actor.*` and
 * `audit.tenant.id`. A nested context without `tenantId` (`subject`, `conversationId`) keeps
 * the outer one.
 */
export function withAuditContext<T>(auditContext: AuditContext, fn: () => T): T {
  checkStrictKeys('withAuditContext', auditContext, [
    'tenantId',
    'actor',
    'subject',
    'conversationId',
  ]);
  checkActor('withAuditContext', 'actor', auditContext.actor, true);
  checkOptionalString('withAuditContext', 'tenantId', auditContext.tenantId);
  checkOptionalString('withAuditContext', 'subject', auditContext.subject);
  checkOptionalString('withAuditContext', 'conversationId', auditContext.conversationId);
  if (typeof fn !== 'function') throw new TypeError('withAuditContext: fn must be a function');
  const outer = getAuditContext();
  const value: AuditContext = Object.freeze({
    actor: Object.freeze({ type: auditContext.actor.type, id: auditContext.actor.id }),
    tenantId: auditContext.tenantId ?? outer?.tenantId,
    subject: auditContext.subject ?? outer?.subject,
    conversationId: auditContext.conversationId ?? outer?.conversationId,
  });
  return context.with(context.active().setValue(AUDIT_CONTEXT_KEY, value), fn);
}

export { ACTOR_TYPES };
