import { type Context, context, createContextKey } from '@opentelemetry/api';
import { ACTOR_TYPES, type AuditActor } from '../actions.js';
import { checkActor, checkOptionalString, checkStrictKeys } from './options.js';

/** Who is acting: stored in the OTel context, so it follows `await`, `Promise.all` and timers. */
export interface AuditContext {
  tenantId?: string;
  actor: AuditActor;
  /** The data subject whose data this is about; default the actor when the actor is a user. */
  subject?: string;
  /** Stamped as `gen_ai.conversation.id` on every span started inside. */
  conversationId?: string;
}

const AUDIT_CONTEXT_KEY = createContextKey('aitrail.audit_context');

export function getAuditContext(ctx: Context = context.active()): AuditContext | undefined {
  return ctx.getValue(AUDIT_CONTEXT_KEY) as AuditContext | undefined;
}

/**
 * Runs `fn` with `actor` (and `tenantId`, `subject`, `conversationId`) as the identity of
 * everything it does: every span started inside it, ours or a third-party library's, is stamped
 * with `audit.actor.*`, `audit.tenant.id`, `audit.subject.id` and `gen_ai.conversation.id`.
 * A nested context keeps the outer tenant and conversation when it names none; the subject
 * follows the nested actor unless given.
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
    subject: auditContext.subject,
    conversationId: auditContext.conversationId ?? outer?.conversationId,
  });
  return context.with(context.active().setValue(AUDIT_CONTEXT_KEY, value), fn);
}

/** The data subject of a record: given explicitly, else the actor when the actor is a user. */
export function subjectOf(
  actor: AuditActor | undefined,
  subject: string | undefined,
): string | undefined {
  if (subject !== undefined) return subject;
  return actor?.type === 'user' ? actor.id : undefined;
}

export { ACTOR_TYPES };
