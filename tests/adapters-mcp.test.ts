import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AuditLogEntry, queryAuditLogs } from '../src/entries/store.js';
import { AI_AUDIT_ACTIONS, traceToolCall, withAuditContext } from '../src/index.js';
import { instrumentMcpClient, instrumentMcpServer } from '../src/integrations/mcp.js';
import { startTestPipeline, type TestPipeline } from './support/pipeline.js';
import { openTestStore, type TestStore } from './support/stores.js';

const alice = { type: 'user', id: 'user_alice' } as const;
const SECRET = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123';

/** A real MCP server and client, linked in memory, each instrumented as an app would. */
async function connectedPair(options: { instrumentClient: boolean; instrumentServer: boolean }) {
  const seenMeta: Record<string, unknown>[] = [];
  const server = new McpServer({ name: 'billing-mcp', version: '1.0.0' });
  server.registerTool(
    'refund',
    { inputSchema: { orderId: z.string(), apiKey: z.string().optional() } },
    async ({ orderId }, extra) => {
      seenMeta.push({ ...(extra._meta ?? {}) });
      return { content: [{ type: 'text', text: `refunded ${orderId}` }] };
    },
  );
  server.registerTool('failing', { inputSchema: {} }, async () => {
    throw new Error('ledger offline for card 4111 1111 1111 1111');
  });
  server.registerTool('audited', { inputSchema: { orderId: z.string() } }, async ({ orderId }) =>
    traceToolCall({ toolName: 'audited', params: { orderId } }, () => ({
      content: [{ type: 'text' as const, text: 'ok' }],
    })),
  );
  if (options.instrumentServer) instrumentMcpServer(server);
  const client = new Client({ name: 'support-agent', version: '1.0.0' });
  if (options.instrumentClient) instrumentMcpClient(client);
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  return {
    client,
    seenMeta,
    async close() {
      await client.close();
      await server.close();
    },
  };
}

describe('MCP tool calls through @modelcontextprotocol/sdk', () => {
  let db: TestStore;
  let pipeline: TestPipeline;

  beforeAll(async () => {
    db = await openTestStore('postgres');
    pipeline = startTestPipeline(db.store);
  });

  afterAll(async () => {
    await pipeline?.close();
    await db?.close();
  });

  async function rowsOf(fn: () => Promise<unknown>): Promise<AuditLogEntry[]> {
    const traceId = await withAuditContext({ tenantId: 'acme', actor: alice }, () =>
      trace.getTracer('app').startActiveSpan('POST /agent', async (span) => {
        try {
          await fn();
          return span.spanContext().traceId;
        } finally {
          span.end();
        }
      }),
    );
    await pipeline.flush();
    return queryAuditLogs(db.store, { traceId, order: 'asc', limit: 100 });
  }

  it('records a client-side tools/call as ai.tool_call with mcp attributes, the server name and redacted arguments', async () => {
    const mcp = await connectedPair({ instrumentClient: true, instrumentServer: false });
    const rows = await rowsOf(() =>
      mcp.client.callTool({ name: 'refund', arguments: { orderId: 'o-1', apiKey: SECRET } }),
    );
    await mcp.close();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: AI_AUDIT_ACTIONS.TOOL_CALL,
      outcome: 'success',
      toolName: 'refund',
      actorId: 'user_alice',
      tenantId: 'acme',
      resourceType: 'mcp_server',
      resourceId: 'billing-mcp',
    });
    expect(rows[0]?.metadata).toMatchObject({
      source: 'mcp',
      mcpMethod: 'tools/call',
      mcpSide: 'client',
      spanName: 'tools/call refund',
      toolParams: { orderId: 'o-1' },
    });
    expect(rows[0]?.metadata.jsonrpcRequestId).toMatch(/^\d+$/);
    expect(JSON.stringify(rows)).not.toContain(SECRET);
    const [span] = pipeline.exported('tools/call refund');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.attributes['mcp.method.name']).toBe('tools/call');
    expect(span?.attributes['jsonrpc.request.id']).toBe(rows[0]?.metadata.jsonrpcRequestId);
    expect(JSON.stringify(span?.attributes)).not.toContain(SECRET);
  });

  it('carries the trace context to the server in params._meta, and the server span joins the trace', async () => {
    const mcp = await connectedPair({ instrumentClient: true, instrumentServer: true });
    const rows = await rowsOf(() =>
      mcp.client.callTool({ name: 'refund', arguments: { orderId: 'o-2' } }),
    );
    await mcp.close();
    const traceparent = String(mcp.seenMeta[0]?.traceparent);
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(traceparent.split('-')[1]).toBe(rows[0]?.traceId);
    // Each end records what it saw: the agent's call and the server's execution.
    expect(rows.map((r) => r.metadata.mcpSide).sort()).toEqual(['client', 'server']);
    const client = rows.find((r) => r.metadata.mcpSide === 'client');
    const server = rows.find((r) => r.metadata.mcpSide === 'server');
    expect(traceparent.split('-')[2]).toBe(client?.spanId);
    expect(server).toMatchObject({
      toolName: 'refund',
      resourceId: 'billing-mcp',
      outcome: 'success',
    });
    expect(server?.metadata.jsonrpcRequestId).toBe(client?.metadata.jsonrpcRequestId);
  });

  it('records a server-side tools/call, and a tool that fails as outcome failure with its message redacted', async () => {
    const mcp = await connectedPair({ instrumentClient: false, instrumentServer: true });
    const rows = await rowsOf(async () => {
      await mcp.client.callTool({ name: 'refund', arguments: { orderId: 'o-3', apiKey: SECRET } });
      await mcp.client.callTool({ name: 'failing', arguments: {} });
    });
    await mcp.close();
    // Compared by tool: two spans may start within one microsecond, so row order is not defined.
    const byTool = (r: { toolName: string | null }) => r.toolName ?? '';
    const sorted = [...rows].sort((a, b) => byTool(a).localeCompare(byTool(b)));
    expect(sorted.map((r) => [r.toolName, r.outcome, r.metadata.mcpSide])).toEqual([
      ['failing', 'failure', 'server'],
      ['refund', 'success', 'server'],
    ]);
    expect(sorted[1]?.metadata.toolParams).toMatchObject({ orderId: 'o-3' });
    expect(JSON.stringify(rows)).not.toContain(SECRET);
    expect(JSON.stringify(rows)).not.toContain('4111 1111 1111 1111');
  });

  it('keeps one row, the helper-made one, when the handler calls traceToolCall', async () => {
    const mcp = await connectedPair({ instrumentClient: false, instrumentServer: true });
    const rows = await rowsOf(() =>
      mcp.client.callTool({ name: 'audited', arguments: { orderId: 'o-4' } }),
    );
    await mcp.close();
    expect(rows.map((r) => [r.action, r.metadata.source])).toEqual([
      [AI_AUDIT_ACTIONS.TOOL_CALL, 'aitrail'],
    ]);
  });

  it('keeps one row, the helper-made one, when traceToolCall wraps the client call', async () => {
    const mcp = await connectedPair({ instrumentClient: true, instrumentServer: false });
    const rows = await rowsOf(() =>
      traceToolCall({ toolName: 'refund', params: { orderId: 'o-5' } }, () =>
        mcp.client.callTool({ name: 'refund', arguments: { orderId: 'o-5' } }),
      ),
    );
    await mcp.close();
    expect(rows.map((r) => r.metadata.source)).toEqual(['aitrail']);
  });

  it('rejects what is not an MCP client or server, and unknown options, with a TypeError', () => {
    expect(() => instrumentMcpClient({})).toThrow(TypeError);
    expect(() => instrumentMcpServer({})).toThrow(TypeError);
    expect(() =>
      instrumentMcpClient(new Client({ name: 'c', version: '1' }), { server: 'x' } as never),
    ).toThrow(/unknown option "server"/);
  });
});
