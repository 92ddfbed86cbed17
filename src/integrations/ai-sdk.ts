import { trace } from '@opentelemetry/api';
import { ACTOR_TYPES, type AuditActor } from '../actions.js';
import { AUDIT_ATTRS } from '../attributes.js';
import { recordApproval } from '../instrument/approval.js';
import {
  type AuditContext,
  getAuditContext,
  withAuditContext,
} from '../instrument/audit-context.js';
import { type CommonOptions, checkHelperOptions } from '../instrument/common-options.js';
import type { AuditEventRef } from '../instrument/emit.js';
import { checkActor, checkStrictKeys } from '../instrument/options.js';
import {
  approvalIdForToolCall,
  approvalRequestsIn,
  pendingApprovalDecisions,
} from './ai-sdk-approvals.js';

/**
 * Who decided when nobody was named: the row still says a decision was made, and that the app
 * did not say by whom.
 */
export const UNATTRIBUTED_APPROVER: AuditActor = Object.freeze({
  type: 'system',
  id: 'unattributed',
});

export interface RecordToolApprovalsOptions extends CommonOptions {
  /** The messages about to be sent: decisions in their trailing tool message are recorded. */
  messages?: unknown;
  /** A result's (or a step's) content: its approval requests are recorded as `created`. */
  content?: unknown;
  /** Who decided; default `actor`, else the actor of the surrounding `withAuditContext`. */
  approver?: AuditActor;
}

/**
 * Records the tool approvals of an AI SDK call (v6 or v7) as `ai.approval_*` rows: the requests
 * in a result's `content` (`created`) and the decisions in the `messages` of the call that acts
 * on them (`approved` / `rejected`, with the approver). Call it with `content: result.content`
 * after a call and with `messages` before the next; each decision is read once, while pending.
 */
export function recordToolApprovals(options: RecordToolApprovalsOptions): AuditEventRef[] {
  checkHelperOptions('recordToolApprovals', options, ['messages', 'content', 'approver']);
  checkActor('recordToolApprovals', 'approver', options.approver, false);
  const { messages, content, approver, ...common } = options;
  const refs: AuditEventRef[] = [];
  for (const request of approvalRequestsIn(content)) {
    refs.push(
      recordApproval({
        ...common,
        status: 'created',
        approvalId: request.approvalId,
        ...(request.toolName !== undefined && { toolName: request.toolName }),
        ...(request.input !== undefined && { params: request.input }),
      }),
    );
  }
  const decider = approver ?? common.actor ?? getAuditContext()?.actor ?? UNATTRIBUTED_APPROVER;
  for (const decision of pendingApprovalDecisions(messages)) {
    refs.push(
      recordApproval({
        ...common,
        status: decision.approved ? 'approved' : 'rejected',
        approvalId: decision.approvalId,
        approver: decider,
        ...(decision.toolName !== undefined && { toolName: decision.toolName }),
        ...(decision.input !== undefined && { params: decision.input }),
        ...(decision.reason !== undefined && { reason: decision.reason }),
      }),
    );
  }
  return refs;
}

/** The part of an AI SDK tool this module touches. */
interface ExecutableTool {
  execute?: (input: never, options: { toolCallId: string; messages: unknown }) => unknown;
}

/**
 * AI SDK v6 hook for `needsApproval`: the tools, each `execute` stamping the approval that let the
 * call run (`audit.approval.id`) on the SDK's `ai.toolCall` span, so the tool row's `approval_id`
 * names the decision. Record the decisions themselves with `recordToolApprovals`.
 */
export function auditApprovedTools<TOOLS extends Record<string, unknown>>(tools: TOOLS): TOOLS {
  if (tools === null || typeof tools !== 'object')
    throw new TypeError('auditApprovedTools: tools must be an object of AI SDK tools');
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(tools)) {
    const execute = (value as ExecutableTool | null)?.execute;
    if (typeof execute !== 'function') {
      wrapped[name] = value;
      continue;
    }
    wrapped[name] = {
      ...(value as object),
      execute(input: never, execOptions: { toolCallId: string; messages: unknown }) {
        stampApproval(approvalIdForToolCall(execOptions?.messages, execOptions?.toolCallId));
        return execute.call(value, input, execOptions);
      },
    };
  }
  return wrapped as TOOLS;
}

function stampApproval(approvalId: string | undefined): void {
  if (approvalId !== undefined)
    trace.getActiveSpan()?.setAttribute(AUDIT_ATTRS.APPROVAL_ID, approvalId);
}

/** Reads who acts from an AI SDK call's `runtimeContext`. */
export type IdentifyFromRuntimeContext = (
  runtimeContext: Record<string, unknown> | undefined,
) => AuditContext | undefined;

export interface AuditTelemetryOptions<T extends object> {
  /** The AI SDK v7 telemetry integration that makes the spans: `new OpenTelemetry()` of `@ai-sdk/otel`. */
  telemetry: T;
  /**
   * Identity from `runtimeContext` (the keys must also be listed in `includeRuntimeContext`, or the
   * SDK withholds them from telemetry). Default: `actor` (`{ type, id }`) or `userId` (a user),
   * and `tenantId`. Without one, the surrounding `withAuditContext` applies.
   */
  identify?: IdentifyFromRuntimeContext;
}

/** Approved tool calls awaiting execution: bounded, as a call that fails first never consumes its entry. */
const MAX_PENDING_APPROVED_CALLS = 10_000;

type Hook = (event: Record<string, unknown>) => unknown;
type ExecuteTool = (event: {
  callId: string;
  toolCallId: string;
  execute: () => PromiseLike<unknown>;
}) => PromiseLike<unknown>;

/**
 * AI SDK v7: wraps the `@ai-sdk/otel` integration so its spans carry the actor named in
 * `runtimeContext`, tool approvals become `ai.approval_*` rows, and a tool call that ran after an
 * approval carries its id (`approval_id` on the tool row). Register the result in place of the
 * integration: `registerTelemetry(auditTelemetry({ telemetry: new OpenTelemetry() }))`.
 */
export function auditTelemetry<T extends object>(options: AuditTelemetryOptions<T>): T {
  checkStrictKeys('auditTelemetry', options, ['telemetry', 'identify']);
  const inner = options.telemetry as Record<string, unknown>;
  if (inner === null || typeof inner !== 'object')
    throw new TypeError('auditTelemetry: telemetry must be an AI SDK telemetry integration');
  if (options.identify !== undefined && typeof options.identify !== 'function')
    throw new TypeError('auditTelemetry: identify must be a function');
  const identify = options.identify ?? identityFromRuntimeContext;
  const approvedCalls = new Map<string, string>();
  const delegate = (key: string, event: Record<string, unknown>): unknown => {
    const hook = inner[key];
    return typeof hook === 'function' ? (hook as Hook).call(inner, event) : undefined;
  };

  const overrides: Record<string, unknown> = {
    onStart(event: Record<string, unknown>) {
      const identity = identify(event.runtimeContext as Record<string, unknown> | undefined);
      const run = () => {
        const agentName = typeof event.functionId === 'string' ? event.functionId : undefined;
        for (const decision of pendingApprovalDecisions(event.messages)) {
          if (decision.approved && decision.toolCallId !== undefined) {
            if (approvedCalls.size >= MAX_PENDING_APPROVED_CALLS)
              approvedCalls.delete(approvedCalls.keys().next().value as string);
            approvedCalls.set(`${event.callId}\u0000${decision.toolCallId}`, decision.approvalId);
          }
        }
        recordToolApprovals({ messages: event.messages, ...(agentName && { agentName }) });
        // The integration starts its root span here: every span of the call descends from it.
        return delegate('onStart', event);
      };
      return identity === undefined ? run() : withAuditContext(identity, run);
    },
    onStepEnd(event: Record<string, unknown>) {
      const agentName = typeof event.functionId === 'string' ? event.functionId : undefined;
      const identity = identify(event.runtimeContext as Record<string, unknown> | undefined);
      recordToolApprovals({
        content: event.content,
        ...(agentName && { agentName }),
        ...(identity && { actor: identity.actor }),
        ...(identity?.tenantId !== undefined && { tenantId: identity.tenantId }),
      });
      return delegate('onStepEnd', event);
    },
    executeTool(event: Parameters<ExecuteTool>[0]) {
      const key = `${event.callId}\u0000${event.toolCallId}`;
      const approvalId = approvedCalls.get(key);
      approvedCalls.delete(key);
      const execute = () => {
        stampApproval(approvalId);
        return event.execute();
      };
      const innerExecute = inner.executeTool;
      return typeof innerExecute === 'function'
        ? (innerExecute as ExecuteTool).call(inner, { ...event, execute })
        : execute();
    },
  };

  return new Proxy(inner, {
    get(target, key, receiver) {
      if (typeof key === 'string' && Object.hasOwn(overrides, key)) return overrides[key];
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as T;
}

/** The default `identify`: `actor` (`{ type, id }`) or `userId`, and `tenantId`. */
export function identityFromRuntimeContext(
  runtimeContext: Record<string, unknown> | undefined,
): AuditContext | undefined {
  if (runtimeContext === null || typeof runtimeContext !== 'object') return undefined;
  const { actor, userId, tenantId } = runtimeContext;
  let identified: AuditActor | undefined;
  if (actor !== null && typeof actor === 'object') {
    const { type, id } = actor as Record<string, unknown>;
    const known = (ACTOR_TYPES as readonly unknown[]).includes(type);
    if (known && typeof id === 'string' && id !== '') identified = { type, id } as AuditActor;
  } else if (typeof userId === 'string' && userId !== '') {
    identified = { type: 'user', id: userId };
  }
  if (identified === undefined) return undefined;
  return typeof tenantId === 'string' && tenantId !== ''
    ? { actor: identified, tenantId }
    : { actor: identified };
}
