import {
  type Attributes,
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AUDIT_ATTRS, GEN_AI_ATTRS, MCP_ATTRS } from '../attributes.js';
import { recordFailure } from '../instrument/emit.js';
import { checkOptionalString, checkStrictKeys } from '../instrument/options.js';
import { instrumentSettings } from '../instrument/settings.js';
import { activePipelinePolicy } from '../pipeline/pipeline-policy.js';
import { VERSION } from '../version.js';

/**
 * Thin OpenTelemetry instrumentation of `@modelcontextprotocol/sdk` 1.x, per instance: the
 * client's `request` and the server transport's messages are wrapped, nothing is patched
 * globally. A `tools/call` becomes a span named `tools/call {tool}` with the MCP semantic
 * conventions' attributes (`mcp.method.name`, `mcp.session.id`, `jsonrpc.request.id`,
 * `gen_ai.tool.name`, `gen_ai.operation.name: execute_tool`), sanitized arguments and the
 * server's name; the client carries the trace context to the server in `params._meta`.
 * The MCP recogniser turns those spans into `ai.tool_call` rows.
 */

const INSTRUMENTATION_SCOPE = 'aitrail/mcp';
const TOOLS_CALL = 'tools/call';
/** The audit resource an MCP tool call acts through. */
export const MCP_SERVER_RESOURCE = 'mcp_server';

export interface McpInstrumentationOptions {
  /** The server's name on the rows (`resource_id`); default the name the server announces. */
  serverName?: string;
  /** Carries the trace context in `params._meta`; default W3C `traceparent`/`tracestate`. */
  propagator?: TextMapPropagator;
}

type Meta = Record<string, unknown>;
interface JsonRpcMessage {
  id?: string | number;
  method?: string;
  params?: { name?: unknown; arguments?: unknown; _meta?: Meta } & Record<string, unknown>;
  result?: { isError?: unknown } & Record<string, unknown>;
  error?: { message?: unknown; code?: unknown };
}

interface McpTransport {
  sessionId?: string;
  onmessage?: (message: JsonRpcMessage, extra?: unknown) => void;
  send(message: JsonRpcMessage, options?: unknown): Promise<void>;
  start(): Promise<void>;
}

interface McpClientLike {
  request(request: JsonRpcMessage, resultSchema?: unknown, options?: unknown): Promise<unknown>;
  getServerVersion?(): { name?: string } | undefined;
  transport?: McpTransport;
}

interface McpServerLike {
  connect(transport: McpTransport): Promise<void>;
  transport?: McpTransport;
}

const metaSetter = {
  set(carrier: Meta, key: string, value: string) {
    carrier[key] = value;
  },
};
const metaGetter = {
  get(carrier: Meta, key: string) {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
  keys: (carrier: Meta) => Object.keys(carrier),
};

function checkOptions(fn: string, options: McpInstrumentationOptions): void {
  checkStrictKeys(fn, options, ['serverName', 'propagator']);
  checkOptionalString(fn, 'serverName', options.serverName);
}

function tracer() {
  return trace.getTracer(INSTRUMENTATION_SCOPE, VERSION);
}

/** The attributes of a `tools/call` span, arguments redacted before they touch the span. */
function toolCallAttributes(
  message: JsonRpcMessage,
  sessionId: string | undefined,
  serverName: string | undefined,
  requestId: string | number | undefined,
): { attributes: Attributes; sanitized: ReturnType<typeof sanitizedArguments> } {
  const toolName = typeof message.params?.name === 'string' ? message.params.name : 'unknown';
  const attributes: Attributes = {
    [MCP_ATTRS.METHOD_NAME]: TOOLS_CALL,
    [GEN_AI_ATTRS.OPERATION_NAME]: 'execute_tool',
    [GEN_AI_ATTRS.TOOL_NAME]: toolName,
  };
  if (sessionId !== undefined) attributes[MCP_ATTRS.SESSION_ID] = sessionId;
  if (requestId !== undefined) attributes[MCP_ATTRS.JSONRPC_REQUEST_ID] = String(requestId);
  if (serverName !== undefined) {
    attributes[AUDIT_ATTRS.RESOURCE_TYPE] = MCP_SERVER_RESOURCE;
    attributes[AUDIT_ATTRS.RESOURCE_ID] = serverName;
  }
  const sanitized = sanitizedArguments(message.params?.arguments);
  if (sanitized !== undefined) attributes[GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS] = sanitized.json;
  return { attributes, sanitized };
}

function sanitizedArguments(args: unknown) {
  if (args === undefined) return undefined;
  const { redactor } = instrumentSettings();
  const value = redactor.redactValue(args);
  return { redactor, value, json: JSON.stringify(value) };
}

function remember(span: Span, sanitized: ReturnType<typeof sanitizedArguments>): void {
  if (sanitized !== undefined)
    activePipelinePolicy().sanitized.remember(
      span,
      GEN_AI_ATTRS.TOOL_CALL_ARGUMENTS,
      sanitized.redactor,
      sanitized.value,
    );
}

/** A tool result with `isError`, or a JSON-RPC error: the call failed. */
function endToolSpan(span: Span, response: JsonRpcMessage | undefined, error?: unknown): void {
  if (error !== undefined) {
    recordFailure(span, error);
  } else if (response?.error !== undefined) {
    recordFailure(span, new Error(String(response.error.message ?? 'MCP error')));
  } else if (response?.result?.isError === true) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'the tool reported an error' });
  }
  span.end();
}

/**
 * Instruments an MCP `Client`: each `tools/call` runs in a client span, and every request
 * carries the trace context in `params._meta`. Returns the same client.
 */
export function instrumentMcpClient<T extends object>(
  client: T,
  options: McpInstrumentationOptions = {},
): T {
  checkOptions('instrumentMcpClient', options);
  const target = client as unknown as McpClientLike;
  if (typeof target.request !== 'function')
    throw new TypeError('instrumentMcpClient: client must be an MCP SDK Client');
  const propagator = options.propagator ?? new W3CTraceContextPropagator();
  const request = target.request;

  target.request = function instrumentedRequest(this: McpClientLike, message, schema, opts) {
    const withContext = (ctx: Context): JsonRpcMessage => {
      const meta: Meta = { ...(message.params?._meta ?? {}) };
      propagator.inject(ctx, meta, metaSetter);
      return { ...message, params: { ...message.params, _meta: meta } };
    };
    if (message?.method !== TOOLS_CALL)
      return request.call(this, withContext(context.active()), schema, opts);
    const serverName = options.serverName ?? this.getServerVersion?.()?.name;
    // The SDK numbers requests from this counter; read before the call it is the call's id.
    const next = (this as { _requestMessageId?: unknown })._requestMessageId;
    const { attributes, sanitized } = toolCallAttributes(
      message,
      this.transport?.sessionId,
      serverName,
      typeof next === 'number' ? next : undefined,
    );
    const toolName = attributes[GEN_AI_ATTRS.TOOL_NAME];
    return tracer().startActiveSpan(
      `${TOOLS_CALL} ${toolName}`,
      { kind: SpanKind.CLIENT, attributes },
      async (span) => {
        remember(span, sanitized);
        try {
          const result = (await request.call(this, withContext(context.active()), schema, opts)) as
            | JsonRpcMessage['result']
            | undefined;
          endToolSpan(span, { result });
          return result;
        } catch (error) {
          endToolSpan(span, undefined, error);
          throw error;
        }
      },
    );
  };
  return client;
}

/**
 * Instruments an MCP server (`McpServer` or the low-level `Server`) before or after `connect`:
 * each `tools/call` it receives runs in a server span whose parent is the caller's span from
 * `params._meta`, so the tool handler's own spans (and aitrail helpers) nest under it.
 */
export function instrumentMcpServer<T extends object>(
  server: T,
  options: McpInstrumentationOptions = {},
): T {
  checkOptions('instrumentMcpServer', options);
  const protocol = ((server as { server?: unknown }).server ?? server) as McpServerLike;
  if (typeof protocol.connect !== 'function')
    throw new TypeError('instrumentMcpServer: server must be an MCP SDK McpServer or Server');
  const propagator = options.propagator ?? new W3CTraceContextPropagator();
  // The low-level Server keeps the info it announces; read it when no name is given.
  const announced = (protocol as { _serverInfo?: { name?: unknown } })._serverInfo?.name;
  const serverName = options.serverName ?? (typeof announced === 'string' ? announced : undefined);
  const instrument = (transport: McpTransport) =>
    instrumentServerTransport(transport, propagator, serverName);

  if (protocol.transport !== undefined) instrument(protocol.transport);
  const connect = protocol.connect;
  protocol.connect = function instrumentedConnect(this: McpServerLike, transport: McpTransport) {
    // `connect` installs its message handler, then starts the transport: wrap in between.
    const start = transport.start;
    transport.start = function instrumentedStart(this: McpTransport) {
      instrument(transport);
      return start.call(this);
    };
    return connect.call(this, transport);
  };
  return server;
}

function instrumentServerTransport(
  transport: McpTransport,
  propagator: TextMapPropagator,
  serverName: string | undefined,
): void {
  const onmessage = transport.onmessage;
  const send = transport.send;
  const inFlight = new Map<string | number, Span>();

  transport.onmessage = (message, extra) => {
    if (message?.method !== TOOLS_CALL || message.id === undefined) {
      onmessage?.call(transport, message, extra);
      return;
    }
    const parent = propagator.extract(context.active(), message.params?._meta ?? {}, metaGetter);
    const { attributes, sanitized } = toolCallAttributes(
      message,
      transport.sessionId,
      serverName,
      message.id,
    );
    const span = tracer().startSpan(
      `${TOOLS_CALL} ${attributes[GEN_AI_ATTRS.TOOL_NAME]}`,
      { kind: SpanKind.SERVER, attributes },
      parent,
    );
    remember(span, sanitized);
    inFlight.set(message.id, span);
    context.with(trace.setSpan(parent, span), () => onmessage?.call(transport, message, extra));
  };

  transport.send = function instrumentedSend(this: McpTransport, message, sendOptions) {
    const id = message?.id;
    const span = id === undefined ? undefined : inFlight.get(id);
    if (span !== undefined && id !== undefined && ('result' in message || 'error' in message)) {
      inFlight.delete(id);
      endToolSpan(span, message);
    }
    return send.call(this, message, sendOptions);
  };
}
