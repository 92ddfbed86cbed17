import type { AuditActor } from '../actions.js';
import { checkActor, checkOptionalString, checkStrictKeys } from './options.js';

/** Options every helper takes. */
export interface CommonOptions {
  /** Who acts; default the actor of the surrounding `withAuditContext`. */
  actor?: AuditActor;
  tenantId?: string;
  conversationId?: string;
  /** The agent acting (for the actor, when an agent acts for a user). */
  agentName?: string;
  /** The data subject (a person's id) the record is about; default the actor when it is a user. */
  subject?: string;
}

export const COMMON_OPTION_KEYS = [
  'actor',
  'tenantId',
  'conversationId',
  'agentName',
  'subject',
] as const;

/** Strict check of a helper's options: common ones plus `own` keys. */
export function checkHelperOptions(
  fn: string,
  options: unknown,
  own: readonly string[],
): asserts options is CommonOptions {
  checkStrictKeys(fn, options, [...COMMON_OPTION_KEYS, ...own]);
  const o = options as CommonOptions;
  checkActor(fn, 'actor', o.actor, false);
  checkOptionalString(fn, 'tenantId', o.tenantId);
  checkOptionalString(fn, 'conversationId', o.conversationId);
  checkOptionalString(fn, 'agentName', o.agentName);
  checkOptionalString(fn, 'subject', o.subject);
}
