import { type Attributes, context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_EXCEPTION_MESSAGE } from '@opentelemetry/semantic-conventions';
import { AI_AUDIT_ACTIONS, type AuditActor } from '../actions.js';
import { AUDIT_ATTRS, GEN_AI_ATTRS, GEN_AI_OPERATIONS } from '../attributes.js';
import { helperToolCallsWithin, sameCall } from '../processor/helper-overlap.js';
import { consoleLogger } from '../store/writer/logger.js';
import { VERSION } from '../version.js';
import { type AgentsApprovalLedger, UNATTRIBUTED_APPROVER } from './openai-agents-approvals.js';
import { instrumentSettings } from './settings.js';

/** Action of a tripped guardrail (kept as an export of its own for existing imports). */
export const GUARDRAIL_TRIGGERED = AI_AUDIT_ACTIONS.GUARDRAIL_TRIGGERED;

/** Instrumentation scope of the bridged spans; also their records' `metadata.source`. */
export const OPENAI_AGENTS_SCOPE = 'openai-agents';

/** The parts of an Agents SDK span aitrail reads (structural: `@openai/agents` is optional). */
export interface AgentsSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentId: string | null;
  readonly spanData: { type: string; [key: string]: unknown };
  readonly error: { message: string; data?: Record<string, unknown> } | null;
  readonly startedAt: string | null;
  readonly endedAt: string | null;
}

export interface AgentsTrace {
  readonly traceId: string;
  readonly groupId?: string | null;
}

/** The SDK functions the processor calls while it runs. */
export interface AgentsTracingApi {
  getCurrentTrace(): AgentsTrace | null;
}

/** `data.error` of a function span whose approval was rejected (the SDK's fixed wording). */
const REJECTED_CALL = /^Tool execution for (.+) was manually rejected by user\.$/;

/** Open agent and turn spans, for the agent name of the tool, handoff and guardrail spans inside. */
const MAX_OPEN_AGENT_SPANS = 10_000;

/**
 * An Agents SDK `TracingProcessor` that mirrors the spans worth auditing as OTel spans carrying
 * `audit.*` attributes: function → `ai.tool_call`, handoff → `ai.agent_handoff`, tripped
 * guardrail → `ai.guardrail_triggered`, and approval decisions the app did not record itself.
 * Spans are made when the Agents SDK span ends (its data is complete only then), with its
 * start and end times, as children of the OTel context active at that moment: so inside
 * `withAuditContext` they carry the actor and tenant, and the sampler sees `audit.action`.
 */
export class AuditTracingProcessor {
  enabled = true;
  private readonly agentNames = new Map<string, string>();

  constructor(
    private readonly sdk: AgentsTracingApi,
    private readonly approvals: AgentsApprovalLedger,
  ) {}

  async onTraceStart(): Promise<void> {}

  async onTraceEnd(): Promise<void> {}

  async onSpanStart(span: AgentsSpan): Promise<void> {
    if (!this.enabled) return;
    const data = span.spanData;
    const agentName =
      data.type === 'agent' ? data.name : data.type === 'turn' ? data.agent_name : undefined;
    if (typeof agentName !== 'string') return;
    if (this.agentNames.size >= MAX_OPEN_AGENT_SPANS) {
      this.agentNames.delete(this.agentNames.keys().next().value as string);
    }
    this.agentNames.set(span.spanId, agentName);
  }

  async onSpanEnd(span: AgentsSpan): Promise<void> {
    if (!this.enabled) return;
    try {
      switch (span.spanData.type) {
        case 'agent':
        case 'turn':
          this.agentNames.delete(span.spanId);
          return;
        case 'function':
          this.bridgeFunction(span);
          return;
        case 'handoff':
          this.bridgeHandoff(span);
          return;
        case 'guardrail':
          if (span.spanData.triggered === true) this.bridgeGuardrail(span);
          return;
      }
    } catch (error) {
      // Never throw into the Agents SDK; a lost record is reported, not hidden.
      consoleLogger.error(
        `could not record the OpenAI Agents SDK ${span.spanData.type} span ${span.spanId}: ${String(error)}`,
      );
    }
  }

  async shutdown(): Promise<void> {}

  async forceFlush(): Promise<void> {}

  private bridgeFunction(span: AgentsSpan): void {
    const toolName = stringOf(span.spanData.name) ?? 'unknown';
    const rejectedCallId = rejectedCallIdOf(span);
    const approvedCallId = this.approvals.takePendingApproval(
      span.traceId,
      toolName,
      rejectedCallId,
    );
    const callId = rejectedCallId ?? approvedCallId;
    const common = this.commonAttributes(span);

    const helperMade = helperToolCallsWithin(span).some((call) =>
      sameCall(call, { action: AI_AUDIT_ACTIONS.TOOL_CALL, toolName, toolCallId: callId }),
    );
    if (!helperMade) {
      const attributes: Attributes = {
        ...common,
        [AUDIT_ATTRS.ACTION]: AI_AUDIT_ACTIONS.TOOL_CALL,
        [AUDIT_ATTRS.OUTCOME]:
          rejectedCallId !== undefined ? 'denied' : span.error ? 'failure' : 'success',
        [GEN_AI_ATTRS.OPERATION_NAME]: GEN_AI_OPERATIONS.EXECUTE_TOOL,
        [GEN_AI_ATTRS.TOOL_NAME]: toolName,
      };
      if (callId !== undefined) attributes[GEN_AI_ATTRS.TOOL_CALL_ID] = callId;
      const args = redactedArguments(span.spanData.input);
      if (args !== undefined) attributes[GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS] = args;
      emitSpan(`execute_tool ${toolName}`, attributes, span, errorOf(span));
    }

    // A decision the app made with state.approve/reject directly: recorded, but as the SDK's.
    if (
      rejectedCallId !== undefined &&
      !this.approvals.wasDecidedByApp(span.traceId, rejectedCallId)
    ) {
      this.bridgeUnattributedDecision(span, common, 'rejected', toolName, rejectedCallId);
    } else if (
      approvedCallId !== undefined &&
      !this.approvals.wasDecidedByApp(span.traceId, approvedCallId)
    ) {
      this.bridgeUnattributedDecision(span, common, 'approved', toolName, approvedCallId);
    }
  }

  private bridgeUnattributedDecision(
    span: AgentsSpan,
    common: Attributes,
    status: 'approved' | 'rejected',
    toolName: string,
    callId: string,
  ): void {
    const action =
      status === 'approved'
        ? AI_AUDIT_ACTIONS.APPROVAL_APPROVED
        : AI_AUDIT_ACTIONS.APPROVAL_REJECTED;
    const approver: AuditActor = UNATTRIBUTED_APPROVER;
    emitSpan(
      action,
      {
        ...common,
        [AUDIT_ATTRS.ACTION]: action,
        [AUDIT_ATTRS.OUTCOME]: status === 'approved' ? 'success' : 'denied',
        [AUDIT_ATTRS.APPROVAL_ID]: callId,
        [AUDIT_ATTRS.APPROVER_TYPE]: approver.type,
        [AUDIT_ATTRS.APPROVER_ID]: approver.id,
        [GEN_AI_ATTRS.TOOL_NAME]: toolName,
        [AUDIT_ATTRS.METADATA]: JSON.stringify({
          ...agentsIds(span),
          approverAttributed: false,
        }),
      },
      span,
    );
  }

  private bridgeHandoff(span: AgentsSpan): void {
    const from = stringOf(span.spanData.from_agent);
    const to = stringOf(span.spanData.to_agent);
    if (to === undefined) return;
    const attributes: Attributes = {
      ...this.commonAttributes(span),
      [AUDIT_ATTRS.ACTION]: AI_AUDIT_ACTIONS.AGENT_HANDOFF,
      [AUDIT_ATTRS.OUTCOME]: span.error ? 'failure' : 'success',
      [GEN_AI_ATTRS.OPERATION_NAME]: GEN_AI_OPERATIONS.INVOKE_AGENT,
      [AUDIT_ATTRS.HANDOFF_TO]: to,
    };
    if (from !== undefined) {
      attributes[AUDIT_ATTRS.HANDOFF_FROM] = from;
      attributes[GEN_AI_ATTRS.AGENT_NAME] = from;
    }
    emitSpan(`invoke_agent ${to}`, attributes, span, errorOf(span));
  }

  private bridgeGuardrail(span: AgentsSpan): void {
    const name = stringOf(span.spanData.name) ?? 'unknown';
    emitSpan(
      GUARDRAIL_TRIGGERED,
      {
        ...this.commonAttributes(span),
        [AUDIT_ATTRS.ACTION]: GUARDRAIL_TRIGGERED,
        [AUDIT_ATTRS.OUTCOME]: 'denied',
        [AUDIT_ATTRS.RESOURCE_TYPE]: 'guardrail',
        [AUDIT_ATTRS.RESOURCE_ID]: name,
        [AUDIT_ATTRS.METADATA]: JSON.stringify({ ...agentsIds(span), guardrailName: name }),
      },
      span,
    );
  }

  /** Agent name (from the enclosing agent or turn span) and conversation (the trace's group). */
  private commonAttributes(span: AgentsSpan): Attributes {
    const attributes: Attributes = {
      [AUDIT_ATTRS.METADATA]: JSON.stringify(agentsIds(span)),
    };
    const agentName = span.parentId === null ? undefined : this.agentNames.get(span.parentId);
    if (agentName !== undefined) attributes[GEN_AI_ATTRS.AGENT_NAME] = agentName;
    const groupId = this.sdk.getCurrentTrace()?.groupId;
    if (typeof groupId === 'string' && groupId !== '') {
      attributes[GEN_AI_ATTRS.CONVERSATION_ID] = groupId;
    }
    return attributes;
  }
}

function agentsIds(span: AgentsSpan): Record<string, string> {
  return { agentsTraceId: span.traceId, agentsSpanId: span.spanId };
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function rejectedCallIdOf(span: AgentsSpan): string | undefined {
  const detail = span.error?.data?.error;
  if (typeof detail !== 'string') return undefined;
  return REJECTED_CALL.exec(detail)?.[1];
}

/** The SDK gives arguments as JSON text (empty when withheld); recorded like `traceToolCall` params. */
function redactedArguments(input: unknown): string | undefined {
  if (typeof input !== 'string' || input === '') return undefined;
  let value: unknown = input;
  try {
    value = JSON.parse(input);
  } catch {
    // Not JSON: redacted as text.
  }
  return JSON.stringify(instrumentSettings().redactor.redactValue(value));
}

function errorOf(span: AgentsSpan): string | undefined {
  if (span.error === null) return undefined;
  const detail = span.error.data?.error;
  return typeof detail === 'string' && detail !== '' ? detail : span.error.message;
}

function timeOf(iso: string | null): Date | undefined {
  if (iso === null) return undefined;
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/** One short OTel span for one Agents SDK span, ended at once with the SDK span's times. */
function emitSpan(
  name: string,
  attributes: Attributes,
  agentsSpan: AgentsSpan,
  errorMessage?: string,
): void {
  const tracer = trace.getTracer(OPENAI_AGENTS_SCOPE, VERSION);
  const startTime = timeOf(agentsSpan.startedAt);
  const endTime = timeOf(agentsSpan.endedAt);
  const span = tracer.startSpan(
    name,
    { kind: SpanKind.INTERNAL, attributes, ...(startTime ? { startTime } : {}) },
    context.active(),
  );
  if (errorMessage !== undefined) {
    const message = instrumentSettings().redactor.redactText(errorMessage);
    span.addEvent('exception', { [ATTR_EXCEPTION_MESSAGE]: message }, endTime);
    span.setStatus({ code: SpanStatusCode.ERROR, message });
  }
  span.end(endTime);
}
