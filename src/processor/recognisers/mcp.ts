import { SpanKind } from '@opentelemetry/api';
import { AI_AUDIT_ACTIONS } from '../../actions.js';
import { AUDIT_ATTRS, GEN_AI_ATTRS, MCP_ATTRS } from '../../attributes.js';
import type { SpanMapping } from './span-mapping.js';
import type { SpanRecogniser } from './span-recogniser.js';

/**
 * A `tools/call` of the Model Context Protocol, as aitrail's MCP instrumentation (or any
 * instrumentation following the MCP semantic conventions) records it. No `toolCallId`: the
 * JSON-RPC id only numbers requests within a session, so it goes to metadata, and a helper
 * `traceToolCall` inside the handler is matched to the span by tool name.
 */
const TOOL_CALL: SpanMapping = {
  action: AI_AUDIT_ACTIONS.TOOL_CALL,
  toolName: [GEN_AI_ATTRS.TOOL_NAME, 'mcp.tool.name'],
  toolArguments: GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS,
  conversationId: GEN_AI_ATTRS.CONVERSATION_ID,
  agentName: GEN_AI_ATTRS.AGENT_NAME,
  resourceType: AUDIT_ATTRS.RESOURCE_TYPE,
  resourceId: AUDIT_ATTRS.RESOURCE_ID,
  metadata: {
    mcpMethod: MCP_ATTRS.METHOD_NAME,
    mcpSessionId: MCP_ATTRS.SESSION_ID,
    jsonrpcRequestId: MCP_ATTRS.JSONRPC_REQUEST_ID,
    mcpProtocolVersion: MCP_ATTRS.PROTOCOL_VERSION,
  },
};

/** `mcp.method.name` → record: tool calls are the audited MCP operations. */
export const MCP_METHODS_AUDITED: Readonly<Record<string, SpanMapping>> = {
  'tools/call': TOOL_CALL,
};

export const mcpRecogniser: SpanRecogniser = {
  source: 'mcp',
  matchOn: { attribute: MCP_ATTRS.METHOD_NAME },
  mappings: MCP_METHODS_AUDITED,
  // `mcp.method.name` is a start attribute, so the sampler keeps these spans.
  visibleAtStart: true,
  refine(span, mapping) {
    // Both ends of a call may be in one trace: the row says which end it saw.
    const side = span.kind === SpanKind.SERVER ? 'server' : 'client';
    return { ...mapping, metadata: { ...mapping.metadata, mcpSide: () => side } };
  },
};
