import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/store/audit-store.js';
import { openAuditStore } from '../../src/store/open-store.js';
import { AuditWriter } from '../../src/store/writer/audit-writer.js';
import { testDatabaseUrl } from '../support/postgres.js';
import { makeRecord } from '../support/records.js';
import { scratchDir } from '../support/stores.js';

/**
 * A TCP hop between the writer and Postgres that the test controls: it can cut every connection
 * and refuse new ones (the server gone, as `pg_ctl stop` leaves it), and it can do so at the
 * worst moment for postgres.js: right after a fresh connection sends its first statement (by
 * default the driver's own array-type fetch, which it runs unawaited).
 */
class FaultyHop {
  private server: Server | null = null;
  private readonly pairs = new Set<[Socket, Socket]>();
  /** Set: the next connection that sends its first statement is cut, and the hop refuses. */
  private trap: (() => void) | null = null;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = tcpConnect(this.target.port, this.target.host);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const cut = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', cut).on('close', cut);
      upstream.on('error', cut).on('close', cut);
      const armed = this.trap !== null;
      client.on('data', (chunk: Buffer) => {
        // A statement starts with Parse or Query; the startup message with its length.
        if (armed && this.trap && (chunk[0] === 0x50 || chunk[0] === 0x51)) {
          const sprung = this.trap;
          this.trap = null;
          cut();
          sprung();
          return;
        }
        upstream.write(chunk);
      });
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Closes the listener (new connections are refused) and cuts every open connection. */
  async refuse(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Cuts every connection; the first new connection is cut as soon as it sends a statement, and
   * connections are refused for `refuseMs` after that. Resolves once the hop accepts again.
   */
  async cutFirstStatement(refuseMs: number): Promise<void> {
    const sprung = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no new connection sent a statement')), 20_000);
      this.trap = () => {
        clearTimeout(t);
        resolve();
      };
    });
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    await sprung;
    await this.refuse();
    await new Promise((r) => setTimeout(r, refuseMs));
    await this.listen();
  }

  url(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }
}

describe('the writer thread through connection faults', () => {
  let databaseUrl: string;
  let store: AuditStore;

  beforeAll(async () => {
    databaseUrl = await testDatabaseUrl();
    store = await openAuditStore({ databaseUrl });
  });

  afterAll(async () => {
    await store?.close();
  });

  it('a connection cut at its first statement (the driver’s own type fetch, by default), then refused, leaves the writer thread alive on its chain, and every record arrives in order', async () => {
    const target = new URL(databaseUrl);
    const agentName = 'hop';
    const hop = new FaultyHop({ host: target.hostname, port: Number(target.port || 5432) });
    await hop.listen();
    const throughHop = await openAuditStore({
      databaseUrl: hop.url(databaseUrl),
      migrate: false,
    });
    const messages: string[] = [];
    const writer = new AuditWriter({
      store: throughHop,
      thread: 'worker',
      journalDir: scratchDir(),
      batchSize: 50,
      retry: { initialDelayMs: 20, maxDelayMs: 200 },
      logger: { warn: (m) => messages.push(m), error: (m) => messages.push(m) },
    });
    const chainId = writer.stats().chainId;
    let index = 0;
    const emit = (count: number) => {
      for (let i = 0; i < count; i++) writer.enqueue(makeRecord(index++, { agentName }));
    };
    try {
      emit(200);
      await writer.flush();
      for (let cycle = 0; cycle < 5; cycle++) {
        const faulted = hop.cutFirstStatement(300);
        emit(100);
        await faulted;
        emit(100);
        await writer.flush();
      }
      emit(100);
      await writer.shutdown({ deadlineMs: 30_000 });
    } finally {
      await hop.refuse();
      await throughHop.close().catch(() => {});
    }
    const thread = messages.filter((m) => /writer thread/.test(m));
    expect(thread).toEqual([]);
    expect(writer.stats()).toMatchObject({ chainId, received: index, dropped: 0 });
    const sql = postgres(databaseUrl, { onnotice: () => {}, max: 1 });
    try {
      const rows = await sql<{ chain_id: string; chain_seq: string }[]>`
        select chain_id, chain_seq from audit_logs where agent_name = ${agentName}
        order by chain_seq`;
      expect(new Set(rows.map((r) => r.chain_id))).toEqual(new Set([chainId]));
      expect(rows.map((r) => Number(r.chain_seq))).toEqual(
        Array.from({ length: index }, (_, i) => i + 1),
      );
    } finally {
      await sql.end();
    }
  }, 120_000);
});
