// `aitrail/mcp`: audit Model Context Protocol tool calls (`@modelcontextprotocol/sdk` 1.x),
// per client or server instance, with the trace context carried to the server.
export {
  instrumentMcpClient,
  instrumentMcpServer,
  MCP_SERVER_RESOURCE,
  type McpInstrumentationOptions,
} from '../integrations/mcp.js';
