import { createHash } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { SealedAuditRecord } from '../audit-record.js';
import { isProcessAlive } from '../process-alive.js';

/** A closed or open segment file of one chain's journal. */
export interface JournalSegment {
  chainId: string;
  path: string;
  /** True for the segment this writer is still appending to. */
  open: boolean;
}

export interface SegmentContents {
  records: SealedAuditRecord[];
  /** Lines whose checksum did not match: a write torn by a crash, skipped rather than replayed. */
  corruptLines: number;
}

interface OwnerInfo {
  pid: number;
  host: string;
}

const SEGMENT_SUFFIX = '.jnl';
const OWNER_FILE = 'owner.json';
const MAX_SEGMENT_RECORDS = 10_000;

function checksum(json: string): string {
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

/**
 * Append-only spill journal under `<dataDir>/journal/<chainId>/`. Each line is
 * `<checksum> <json>`; every append is fsynced before it returns, so a record handed to the
 * journal survives a crash. Writes are synchronous on purpose: the journal is the fallback when
 * the database cannot keep up, and it must also absorb synchronous bursts that never yield.
 */
export class Journal {
  private readonly ownDir: string;
  private fd: number | null = null;
  private segmentPath: string | null = null;
  private segmentRecords = 0;
  private segmentCounter = 0;
  private readonly claimed = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly chainId: string,
  ) {
    this.ownDir = join(root, chainId);
  }

  /** Appends a sealed batch and fsyncs it. Throws when the disk refuses (full, read-only, …). */
  append(records: readonly SealedAuditRecord[]): void {
    if (records.length === 0) return;
    if (this.fd === null || this.segmentRecords >= MAX_SEGMENT_RECORDS) this.rotate();
    let text = '';
    for (const record of records) {
      const json = JSON.stringify(record);
      text += `${checksum(json)} ${json}\n`;
    }
    writeSync(this.fd as number, text);
    fsyncSync(this.fd as number);
    this.segmentRecords += records.length;
  }

  private rotate(): void {
    this.closeSegment();
    mkdirSync(this.ownDir, { recursive: true });
    const owner: OwnerInfo = { pid: process.pid, host: hostname() };
    writeFileSync(join(this.ownDir, OWNER_FILE), JSON.stringify(owner));
    this.segmentCounter += 1;
    const name = `${String(Date.now()).padStart(15, '0')}-${String(this.segmentCounter).padStart(6, '0')}`;
    this.segmentPath = join(this.ownDir, `${name}${SEGMENT_SUFFIX}`);
    this.fd = openSync(this.segmentPath, 'a');
    this.segmentRecords = 0;
  }

  private closeSegment(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.segmentPath = null;
  }

  /**
   * Segments waiting to be replayed, oldest first: this writer's own, then those of writers on
   * this host whose process is gone. Segments of live writers elsewhere are left to them.
   */
  pendingSegments(): JournalSegment[] {
    const segments: JournalSegment[] = [];
    let chains: string[];
    try {
      chains = readdirSync(this.root);
    } catch {
      return segments;
    }
    for (const chainId of chains) {
      const dir = join(this.root, chainId);
      const own = chainId === this.chainId;
      if (!own && !this.claimed.has(chainId) && !this.claim(dir)) continue;
      let files: string[];
      try {
        files = readdirSync(dir).filter((f) => f.endsWith(SEGMENT_SUFFIX));
      } catch {
        continue;
      }
      for (const file of files.sort()) {
        const path = join(dir, file);
        segments.push({ chainId, path, open: path === this.segmentPath });
      }
    }
    return segments.sort(
      (a, b) => Number(b.chainId === this.chainId) - Number(a.chainId === this.chainId),
    );
  }

  /** Takes over the journal of a writer that is no longer running on this host. */
  private claim(dir: string): boolean {
    let owner: OwnerInfo;
    try {
      owner = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as OwnerInfo;
    } catch {
      return false;
    }
    if (owner.host !== hostname() || isProcessAlive(owner.pid)) return false;
    writeFileSync(join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid, host: hostname() }));
    this.claimed.add(dir.slice(this.root.length + 1));
    return true;
  }

  /** Reads a segment, skipping lines whose checksum fails. */
  read(segment: JournalSegment): SegmentContents {
    if (segment.open) this.closeSegment();
    const text = readFileSync(segment.path, 'utf8');
    const records: SealedAuditRecord[] = [];
    let corruptLines = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const json = line.slice(17);
      if (line[16] !== ' ' || checksum(json) !== line.slice(0, 16)) {
        corruptLines += 1;
        continue;
      }
      try {
        records.push(JSON.parse(json) as SealedAuditRecord);
      } catch {
        corruptLines += 1;
      }
    }
    return { records, corruptLines };
  }

  /** Deletes a segment once every record in it is committed; drops the chain's folder when empty. */
  remove(segment: JournalSegment): void {
    unlinkSync(segment.path);
    const dir = join(this.root, segment.chainId);
    if (segment.chainId !== this.chainId) {
      const left = readdirSync(dir).filter((f) => f.endsWith(SEGMENT_SUFFIX));
      if (left.length === 0) rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * Records that can never be written to the table (their chain position is taken) go to
   * `dead-letter.jnl`, never replayed and never deleted: evidence for an investigation.
   */
  deadLetter(records: readonly SealedAuditRecord[]): boolean {
    try {
      mkdirSync(this.root, { recursive: true });
      const fd = openSync(join(this.root, 'dead-letter.jnl'), 'a');
      try {
        let text = '';
        for (const record of records) {
          const json = JSON.stringify(record);
          text += `${checksum(json)} ${json}\n`;
        }
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the open segment; removes this writer's folder when nothing is left in it. */
  close(): void {
    this.closeSegment();
    try {
      const left = readdirSync(this.ownDir).filter((f) => f.endsWith(SEGMENT_SUFFIX));
      if (left.length === 0) rmSync(this.ownDir, { recursive: true, force: true });
    } catch {
      // Never created: nothing was spilled.
    }
  }
}
