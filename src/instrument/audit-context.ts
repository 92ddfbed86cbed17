import { type Context, context, createContextKey } from '@opentelemetry/api';
import { ACTOR_TYPES, type AuditActor } from '../actions.js';
import { checkActor, checkOptionalString, checkStrictKeys } from './options.js';

/** Who is acting: stored in the OTel context, so it follows `await`, `Promise.all` and timers. */
export interface AuditContext {
  tenantId?: string;
  actor: AuditActor;
}

const AUDIT_CONTEXT_KEY = createContextKey('aitrail.audit_context');

export function getAuditContext(ctx: Context = context.active()): AuditContext | undefined {
  return ctx.getValue(AUDIT_CONTEXT_KEY) as AuditContext | undefined;
}

/**
 * Runs `fn` with `actor` (and `tenantId`) as the identity of everything it does: every span
 * started inside it, ours or a third-party library's, is stamped with `audit.actor.*` and
 * `audit.tenant.id`. A nested context without `tenantId` keeps the outer tenant.
 */
export function withAuditContext<T>(auditContext: AuditContext, fn: () => T): T {
  checkStrictKeys('withAuditContext', auditContext, ['tenantId', 'actor']);
  checkActor('withAuditContext', 'actor', auditContext.actor, true);
  checkOptionalString('withAuditContext', 'tenantId', auditContext.tenantId);
  if (typeof fn !== 'function') throw new TypeError('withAuditContext: fn must be a function');
  const outer = getAuditContext();
  const value: AuditContext = Object.freeze({
    actor: Object.freeze({ type: auditContext.actor.type, id: auditContext.actor.id }),
    tenantId: auditContext.tenantId ?? outer?.tenantId,
  });
  return context.with(context.active().setValue(AUDIT_CONTEXT_KEY, value), fn);
}

export { ACTOR_TYPES };
