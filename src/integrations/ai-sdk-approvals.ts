/**
 * Tool approvals of the Vercel AI SDK (v6 `needsApproval`, v7 `needsApproval`/`toolApproval`), read
 * from what the SDK hands the app: a result's content holds `tool-approval-request` parts, and
 * the next call's messages end with a tool message of `tool-approval-response` parts. Neither
 * SDK version puts approval ids on a span, so these are the only places they can be read.
 */

/** A tool call awaiting a decision, as a result's content part carries it. */
export interface ToolApprovalRequest {
  approvalId: string;
  toolCallId: string | undefined;
  toolName: string | undefined;
  input: unknown;
}

/** A decision the app is sending back to the SDK, with the call it decides. */
export interface ToolApprovalDecision extends ToolApprovalRequest {
  approved: boolean;
  reason: string | undefined;
}

type Part = Record<string, unknown>;

function partsOf(message: unknown): Part[] {
  if (message === null || typeof message !== 'object') return [];
  const content = (message as { content?: unknown }).content;
  return Array.isArray(content)
    ? content.filter((p): p is Part => p !== null && typeof p === 'object')
    : [];
}

function roleOf(message: unknown): unknown {
  return message !== null && typeof message === 'object'
    ? (message as { role?: unknown }).role
    : undefined;
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function toolCallOf(part: Part | undefined): Pick<ToolApprovalRequest, 'toolName' | 'input'> {
  return { toolName: stringOr(part?.toolName), input: part?.input };
}

/** Approval requests in a result's (or a step's) content. */
export function approvalRequestsIn(content: unknown): ToolApprovalRequest[] {
  if (!Array.isArray(content)) return [];
  const requests: ToolApprovalRequest[] = [];
  for (const part of content) {
    if (part === null || typeof part !== 'object') continue;
    const p = part as Part;
    const approvalId = stringOr(p.approvalId);
    if (p.type !== 'tool-approval-request' || approvalId === undefined) continue;
    const call = (p.toolCall ?? undefined) as Part | undefined;
    requests.push({
      approvalId,
      toolCallId: stringOr(call?.toolCallId) ?? stringOr(p.toolCallId),
      ...toolCallOf(call),
    });
  }
  return requests;
}

/**
 * The decisions a call is about to act on: those in the trailing tool message whose tool call
 * has no result yet, as the SDK itself collects them. Earlier decisions stay in the history of
 * later calls; reading only the pending ones records each decision once.
 */
export function pendingApprovalDecisions(messages: unknown): ToolApprovalDecision[] {
  if (!Array.isArray(messages) || messages.length === 0) return [];
  const last = messages[messages.length - 1];
  if (roleOf(last) !== 'tool') return [];
  const toolCalls = new Map<string, Part>();
  const requestedCall = new Map<string, string>();
  for (const message of messages) {
    if (roleOf(message) !== 'assistant') continue;
    for (const part of partsOf(message)) {
      const toolCallId = stringOr(part.toolCallId);
      if (part.type === 'tool-call' && toolCallId !== undefined) toolCalls.set(toolCallId, part);
      const approvalId = stringOr(part.approvalId);
      if (part.type === 'tool-approval-request' && approvalId && toolCallId)
        requestedCall.set(approvalId, toolCallId);
    }
  }
  const lastParts = partsOf(last);
  const answered = new Set(
    lastParts.filter((p) => p.type === 'tool-result').map((p) => stringOr(p.toolCallId)),
  );
  const decisions: ToolApprovalDecision[] = [];
  for (const part of lastParts) {
    const approvalId = stringOr(part.approvalId);
    if (part.type !== 'tool-approval-response' || approvalId === undefined) continue;
    const toolCallId = requestedCall.get(approvalId);
    if (toolCallId !== undefined && answered.has(toolCallId)) continue;
    decisions.push({
      approvalId,
      toolCallId,
      ...toolCallOf(toolCallId === undefined ? undefined : toolCalls.get(toolCallId)),
      approved: part.approved === true,
      reason: stringOr(part.reason),
    });
  }
  return decisions;
}

/** The approval that let this tool call run, if the messages hold one. */
export function approvalIdForToolCall(messages: unknown, toolCallId: string): string | undefined {
  return pendingApprovalDecisions(messages).find((d) => d.approved && d.toolCallId === toolCallId)
    ?.approvalId;
}
