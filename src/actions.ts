/** The AI actions aitrail audits. Keys are stable API; values are the `audit.action` strings. */
export const AI_AUDIT_ACTIONS = {
  CHAT_MESSAGE: 'ai.chat_message',
  TOOL_CALL: 'ai.tool_call',
  AGENT_HANDOFF: 'ai.agent_handoff',
  APPROVAL_CREATED: 'ai.approval_created',
  APPROVAL_APPROVED: 'ai.approval_approved',
  APPROVAL_REJECTED: 'ai.approval_rejected',
  APPROVAL_EXPIRED: 'ai.approval_expired',
  TASK_QUEUED: 'ai.task_queued',
  TASK_COMPLETED: 'ai.task_completed',
  TASK_FAILED: 'ai.task_failed',
  RATE_LIMITED: 'ai.rate_limited',
  BUDGET_EXCEEDED: 'ai.budget_exceeded',
  /** A guardrail ran and gave its verdict (kept as the guardrail gave it: allow, deny, warn, …). */
  GUARDRAIL_TRIGGERED: 'ai.guardrail_triggered',
  /** An evaluation of a model output was recorded (score and label as the evaluator gave them). */
  EVALUATION_RECORDED: 'ai.evaluation_recorded',
} as const;

export type AiAuditAction = (typeof AI_AUDIT_ACTIONS)[keyof typeof AI_AUDIT_ACTIONS];

export const AUDIT_OUTCOMES = ['success', 'failure', 'denied'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export const ACTOR_TYPES = ['user', 'agent', 'system', 'service'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

export interface AuditActor {
  type: ActorType;
  id: string;
}
