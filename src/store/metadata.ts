import type { JsonValue } from '../sanitize/types.js';

/**
 * The `metadata` jsonb column. Known keys are typed; anything else an app records through
 * `recordAuditEvent({ metadata })` is kept as sanitized JSON.
 */
export interface AiAuditMetadata {
  conversationId?: string;
  taskId?: string;
  taskName?: string;
  agentName?: string;
  toolName?: string;
  toolCallId?: string;
  /** Tool arguments after redaction and size limits. */
  toolParams?: JsonValue;
  approvalId?: string;
  approverId?: string;
  approverType?: string;
  handoffFrom?: string;
  handoffTo?: string;
  budgetUsed?: number;
  budgetLimit?: number;
  budgetUnit?: string;
  rateLimitKey?: string;
  rateLimit?: number;
  rateLimitWindowMs?: number;
  retryAfterMs?: number;
  model?: string;
  provider?: string;
  inputTokens?: number;
  outputTokens?: number;
  /** Prompt / completion content, per the capture policy (absent under `none`). */
  content?: JsonValue;
  reason?: string;
  /** Span duration in milliseconds (records made from spans). */
  durationMs?: number;
  spanName?: string;
  /** Where the record came from: `aitrail` helpers or a recognised third-party SDK. */
  source?: string;
  error?: { type?: string; message?: string };
  [key: string]: JsonValue | undefined;
}
