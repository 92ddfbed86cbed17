/**
 * Attribute keys. GenAI semantic-convention names are defined here rather than imported:
 * the gen_ai exports of @opentelemetry/semantic-conventions/incubating are deprecated.
 */
export const GEN_AI_ATTRS = {
  OPERATION_NAME: 'gen_ai.operation.name',
  PROVIDER_NAME: 'gen_ai.provider.name',
  REQUEST_MODEL: 'gen_ai.request.model',
  RESPONSE_MODEL: 'gen_ai.response.model',
  CONVERSATION_ID: 'gen_ai.conversation.id',
  AGENT_NAME: 'gen_ai.agent.name',
  TOOL_NAME: 'gen_ai.tool.name',
  TOOL_CALL_ID: 'gen_ai.tool.call.id',
  TOOL_CALL_ARGUMENTS: 'gen_ai.tool.call.arguments',
  TOOL_CALL_RESULT: 'gen_ai.tool.call.result',
  INPUT_MESSAGES: 'gen_ai.input.messages',
  OUTPUT_MESSAGES: 'gen_ai.output.messages',
  USAGE_INPUT_TOKENS: 'gen_ai.usage.input_tokens',
  USAGE_OUTPUT_TOKENS: 'gen_ai.usage.output_tokens',
  AGENT_ID: 'gen_ai.agent.id',
} as const;

export const GEN_AI_OPERATIONS = {
  CHAT: 'chat',
  EXECUTE_TOOL: 'execute_tool',
  INVOKE_AGENT: 'invoke_agent',
} as const;

/** aitrail's own attributes: no semantic convention covers audit identity or approvals. */
export const AUDIT_ATTRS = {
  ACTION: 'audit.action',
  OUTCOME: 'audit.outcome',
  ACTOR_TYPE: 'audit.actor.type',
  ACTOR_ID: 'audit.actor.id',
  TENANT_ID: 'audit.tenant.id',
  /** The data subject the record is about (default: the actor, when the actor is a user). */
  SUBJECT_ID: 'audit.subject.id',
  REASON: 'audit.reason',
  RESOURCE_TYPE: 'audit.resource.type',
  RESOURCE_ID: 'audit.resource.id',
  METADATA: 'audit.metadata',
  APPROVAL_ID: 'audit.approval.id',
  APPROVER_ID: 'audit.approver.id',
  APPROVER_TYPE: 'audit.approver.type',
  TASK_ID: 'audit.task.id',
  TASK_NAME: 'audit.task.name',
  HANDOFF_FROM: 'audit.handoff.from',
  HANDOFF_TO: 'audit.handoff.to',
  BUDGET_USED: 'audit.budget.used',
  BUDGET_LIMIT: 'audit.budget.limit',
  BUDGET_UNIT: 'audit.budget.unit',
  RATE_LIMIT_KEY: 'audit.rate_limit.key',
  RATE_LIMIT_LIMIT: 'audit.rate_limit.limit',
  RATE_LIMIT_WINDOW_MS: 'audit.rate_limit.window_ms',
  RATE_LIMIT_RETRY_AFTER_MS: 'audit.rate_limit.retry_after_ms',
  APPROVER_GROUP: 'audit.approver.group',
  APPROVAL_ASSIGNEE: 'audit.approval.assignee',
  BUDGET_KEY: 'audit.budget.key',
  STOPPED_ACTION: 'audit.stopped.action',
  STOPPED_TOOL: 'audit.stopped.tool',
} as const;

/** A writer's signed statement of its chain head, emitted as an `aitrail.checkpoint` span. */
export const CHECKPOINT_ATTRS = {
  CHAIN_ID: 'aitrail.checkpoint.chain_id',
  SEQ: 'aitrail.checkpoint.seq',
  HEAD_HASH: 'aitrail.checkpoint.head_hash',
  CREATED_AT: 'aitrail.checkpoint.created_at',
  ALGORITHM: 'aitrail.checkpoint.algorithm',
  KEY_ID: 'aitrail.checkpoint.key_id',
  SIGNATURE: 'aitrail.checkpoint.signature',
  SERVICE_NAME: 'aitrail.checkpoint.service_name',
  KIND: 'aitrail.checkpoint.kind',
  ROOT_HASH: 'aitrail.checkpoint.root_hash',
  PREV_CHECKPOINT_HASH: 'aitrail.checkpoint.prev_checkpoint_hash',
  HASH_VERSION: 'aitrail.checkpoint.hash_version',
} as const;

/** The MCP semantic conventions' attributes, on the spans of aitrail's MCP instrumentation. */
export const MCP_ATTRS = {
  METHOD_NAME: 'mcp.method.name',
  SESSION_ID: 'mcp.session.id',
  PROTOCOL_VERSION: 'mcp.protocol.version',
  JSONRPC_REQUEST_ID: 'jsonrpc.request.id',
} as const;

/**
 * GenAI guardrail and evaluation attributes. The conventions for guardrails are still moving
 * (`gen_ai.guardrail.*`, earlier `gen_ai.security.*`); aitrail writes these and reads the variants.
 */
export const GEN_AI_GUARDRAIL_ATTRS = {
  NAME: 'gen_ai.guardrail.name',
  DECISION: 'gen_ai.guardrail.decision',
  TARGET_TYPE: 'gen_ai.guardrail.target.type',
  TARGET_ID: 'gen_ai.guardrail.target.id',
  POLICY_ID: 'gen_ai.guardrail.policy.id',
} as const;

export const GEN_AI_EVALUATION_ATTRS = {
  EVENT_NAME: 'gen_ai.evaluation.result',
  NAME: 'gen_ai.evaluation.name',
  SCORE_VALUE: 'gen_ai.evaluation.score.value',
  SCORE_LABEL: 'gen_ai.evaluation.score.label',
  EXPLANATION: 'gen_ai.evaluation.explanation',
  RESPONSE_ID: 'gen_ai.response.id',
} as const;
