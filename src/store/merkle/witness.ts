import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { CheckpointRecord } from '../audit-record.js';

/** Where signed tree heads are published besides the database: somewhere its operator cannot rewrite. */
export interface TreeHeadWitness {
  /** A short description for log lines (no secrets). */
  readonly name: string;
  publish(head: CheckpointRecord): Promise<void>;
}

const CHAIN_FILE = /^[A-Za-z0-9._-]{1,200}$/;

function witnessFileName(chainId: string): string {
  if (!CHAIN_FILE.test(chainId) || chainId.startsWith('.')) {
    throw new TypeError(`witness: chain id ${JSON.stringify(chainId)} cannot name a witness file`);
  }
  return `${chainId}.jsonl`;
}

/**
 * One append-only file per chain, one JSON line per tree head, each line fsynced before the
 * publish resolves (a mounted volume or a synced bucket in production).
 */
export class DirectoryWitness implements TreeHeadWitness {
  readonly name: string;

  constructor(private readonly dir: string) {
    if (typeof dir !== 'string' || dir.length === 0)
      throw new TypeError('witnessDir must be a non-empty directory path');
    this.name = 'witness directory';
  }

  async publish(head: CheckpointRecord): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const fd = openSync(join(this.dir, witnessFileName(head.chainId)), 'a', 0o644);
    try {
      const bytes = Buffer.from(`${JSON.stringify(head)}\n`);
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** POSTs each tree head as JSON; any non-2xx answer counts as a failed publish. */
export class HttpWitness implements TreeHeadWitness {
  readonly name: string;

  constructor(
    private readonly url: string,
    private readonly timeoutMs = 5_000,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new TypeError(`witnessUrl must be an http(s) URL, got ${JSON.stringify(url)}`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new TypeError(`witnessUrl must be an http(s) URL, got ${parsed.protocol}`);
    this.name = `witness endpoint ${parsed.origin}`;
  }

  async publish(head: CheckpointRecord): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(head),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`${this.name} answered ${response.status}`);
  }
}

/** Every tree head a witness directory holds, by chain, in the order they were published. */
export function readWitnessDirectory(dir: string): {
  chains: Map<string, CheckpointRecord[]>;
  unreadableLines: Array<{ file: string; line: number }>;
} {
  const chains = new Map<string, CheckpointRecord[]>();
  const unreadableLines: Array<{ file: string; line: number }> = [];
  if (!existsSync(dir)) throw new TypeError(`--witness: directory ${dir} does not exist`);
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.jsonl')) continue;
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        const head = JSON.parse(line) as CheckpointRecord;
        if (typeof head.chainId !== 'string' || typeof head.chainSeq !== 'number')
          throw new Error('not a tree head');
        const list = chains.get(head.chainId) ?? [];
        list.push(head);
        chains.set(head.chainId, list);
      } catch {
        unreadableLines.push({ file, line: i + 1 });
      }
    });
  }
  return { chains, unreadableLines };
}
