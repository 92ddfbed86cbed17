import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { SealedAuditRecord } from '../audit-record.js';
import { type DatabaseIdentity, sameDatabase } from './database-identity.js';
import { journalLine, parseJournalLine } from './journal-line.js';
import { JournalOwnership } from './journal-owner.js';

/** A closed or open segment file of one chain's journal. */
export interface JournalSegment {
  chainId: string;
  path: string;
  /** True for the segment this writer is still appending to. */
  open: boolean;
  /** True for this writer's own chain (false: a dead writer's, taken over). */
  own: boolean;
}

export interface SegmentContents {
  records: SealedAuditRecord[];
  /** Lines whose checksum did not match: a write torn by a crash, skipped rather than replayed. */
  tornLines: number;
  /** Lines with a valid checksum whose content is not a sealed record: quarantined. */
  malformed: Array<{ line: string; reason: string }>;
  /** It was the segment being appended to (reading closed it). */
  wasOpen: boolean;
}

export interface JournalOptions {
  /** This store's folder: `<journalDir>/<store key>` (see `journal-binding.ts`). */
  root: string;
  chainId: string;
  /** The store's printable location, written into each chain's header. */
  location: string;
  /** Where never-replayed records and lines are kept as evidence. */
  deadLetterPath: string;
  /** A dead owner in another pid namespace is recognised by a heartbeat older than this. */
  staleAfterMs: number;
  /** A chain folder left for another database (same location, other identity): reported. */
  onForeignChain?: (dir: string, bound: DatabaseIdentity) => void;
}

const SEGMENT_SUFFIX = '.jnl';
const CHAIN_HEADER = 'chain.json';
const MAX_SEGMENT_RECORDS = 10_000;

interface ChainHeader {
  location: string;
  database: DatabaseIdentity | null;
}

/**
 * Append-only journal under `<root>/<chainId>/`, one line per sealed record. Its promise: when
 * `append` returns, every byte of every record is written and fsynced; when it throws (disk
 * full, quota, I/O error), none of the batch counts and no torn bytes are left in front of the
 * next append (the segment is cut back, or abandoned). Writes are synchronous on purpose: they
 * also serve `process.on('exit')`, where nothing asynchronous runs any more.
 */
export class Journal {
  private readonly ownDir: string;
  private readonly owner: JournalOwnership;
  private fd: number | null = null;
  private segmentPath: string | null = null;
  private segmentRecords = 0;
  private segmentBytes = 0;
  private segmentCounter = 0;
  /** Highest own-chain seq in each segment this writer wrote: retired once committed. */
  private readonly lastSeqOf = new Map<string, number>();
  private readonly claimed = new Set<string>();
  private readonly reportedForeign = new Set<string>();
  private database: DatabaseIdentity | null = null;

  constructor(private readonly options: JournalOptions) {
    this.ownDir = join(options.root, options.chainId);
    this.owner = new JournalOwnership(options.staleAfterMs);
  }

  /** Appends records with one write loop and one fsync. Throws, leaving nothing half-written. */
  append(records: readonly SealedAuditRecord[]): void {
    if (records.length === 0) return;
    if (this.fd === null || this.segmentRecords >= MAX_SEGMENT_RECORDS) this.rotate();
    const fd = this.fd as number;
    const lines: string[] = new Array(records.length);
    let size = 0;
    let lastSeq = 0;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as SealedAuditRecord;
      const line = journalLine(record);
      lines[i] = line;
      size += Buffer.byteLength(line);
      // A record of another chain is never retired by this chain's commits.
      lastSeq =
        record.chainId === this.options.chainId
          ? Math.max(lastSeq, record.chainSeq)
          : Number.POSITIVE_INFINITY;
    }
    // Encoded line by line into one buffer: no joined string to flatten and encode again.
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    for (const line of lines) filled += bytes.write(line, filled);
    try {
      // writeSync may write less than asked (a disk filling up): loop until all of it is down.
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      fsyncSync(fd);
    } catch (error) {
      this.cutBack();
      throw error;
    }
    this.segmentBytes += bytes.length;
    this.segmentRecords += records.length;
    const path = this.segmentPath as string;
    this.lastSeqOf.set(path, Math.max(this.lastSeqOf.get(path) ?? 0, lastSeq));
  }

  /** Removes the torn tail of a failed append; if even that fails, the segment is abandoned. */
  private cutBack(): void {
    try {
      ftruncateSync(this.fd as number, this.segmentBytes);
      fsyncSync(this.fd as number);
    } catch {
      // The torn tail stays at the end of a closed segment: a torn line, skipped on replay.
      this.closeSegment();
    }
  }

  private rotate(): void {
    this.closeSegment();
    mkdirSync(this.ownDir, { recursive: true });
    this.owner.take(this.ownDir);
    this.writeHeader();
    this.segmentCounter += 1;
    const name = `${String(Date.now()).padStart(15, '0')}-${String(this.segmentCounter).padStart(6, '0')}`;
    const path = join(this.ownDir, `${name}${SEGMENT_SUFFIX}`);
    const fd = openSync(path, 'a');
    try {
      // The new file's name must survive a power loss too, not only its contents.
      const dirFd = openSync(this.ownDir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    } catch (error) {
      closeSync(fd);
      rmSync(path, { force: true });
      throw error;
    }
    this.fd = fd;
    this.segmentPath = path;
    this.segmentRecords = 0;
    this.segmentBytes = 0;
  }

  private writeHeader(): void {
    const header: ChainHeader = { location: this.options.location, database: this.database };
    const path = join(this.ownDir, CHAIN_HEADER);
    writeFileSync(`${path}.tmp`, JSON.stringify(header));
    renameSync(`${path}.tmp`, path);
  }

  private closeSegment(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.segmentPath = null;
  }

  /**
   * Binds this chain's journal to the database the writer reached, and lets dead writers'
   * journals be compared with it: one bound to another database is left alone.
   */
  bindDatabase(identity: DatabaseIdentity): void {
    this.database = identity;
    if (this.fd !== null) {
      try {
        this.writeHeader();
      } catch {
        // The header keeps the location only; the next rotation writes the identity.
      }
    }
  }

  get boundDatabase(): DatabaseIdentity | null {
    return this.database;
  }

  /**
   * Segments waiting to be replayed, own chain first: this writer's, then those of dead writers
   * of the same store (see `JournalOwnership`). Live writers' folders are left to them.
   */
  pendingSegments(): JournalSegment[] {
    const segments: JournalSegment[] = [];
    let chains: string[];
    try {
      chains = readdirSync(this.options.root, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name);
    } catch {
      return segments;
    }
    for (const chainId of chains) {
      const dir = join(this.options.root, chainId);
      const own = chainId === this.options.chainId;
      if (!own && !this.claimed.has(chainId) && !this.claim(chainId, dir)) continue;
      let files: string[];
      try {
        files = readdirSync(dir).filter((f) => f.endsWith(SEGMENT_SUFFIX));
      } catch {
        continue;
      }
      for (const file of files.sort()) {
        const path = join(dir, file);
        segments.push({ chainId, path, open: path === this.segmentPath, own });
      }
    }
    return segments.sort((a, b) => Number(b.own) - Number(a.own));
  }

  /** Are there chain folders of other writers (live or dead) under this store's folder? */
  hasOtherChains(): boolean {
    try {
      return readdirSync(this.options.root, { withFileTypes: true }).some(
        (entry) => entry.isDirectory() && entry.name !== this.options.chainId,
      );
    } catch {
      return false;
    }
  }

  /** Takes over a dead writer's folder, unless it is bound to another database. */
  private claim(chainId: string, dir: string): boolean {
    if (!this.owner.isAbandoned(dir)) return false;
    const bound = readHeader(dir)?.database ?? null;
    if (bound !== null) {
      // Compared only once this writer knows its own database; until then, wait.
      if (this.database === null) return false;
      if (!sameDatabase(bound, this.database)) {
        if (!this.reportedForeign.has(dir)) {
          this.reportedForeign.add(dir);
          this.options.onForeignChain?.(dir, bound);
        }
        return false;
      }
    }
    try {
      this.owner.take(dir);
    } catch {
      // Cannot write owner.json (disk still full): replay anyway; a second taker only repeats
      // inserts that `ON CONFLICT (event_id) DO NOTHING` absorbs.
    }
    this.claimed.add(chainId);
    return true;
  }

  /** Reads a segment; torn lines are counted, malformed ones returned for quarantine. */
  read(segment: JournalSegment): SegmentContents {
    // Decided now, not when the segment was listed: a rotation may have happened since.
    const wasOpen = segment.path === this.segmentPath;
    if (wasOpen) this.closeSegment();
    const text = readFileSync(segment.path, 'utf8');
    const contents: SegmentContents = { records: [], tornLines: 0, malformed: [], wasOpen };
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const parsed = parseJournalLine(line);
      if (parsed.kind === 'record') contents.records.push(parsed.record);
      else if (parsed.kind === 'torn') contents.tornLines += 1;
      else contents.malformed.push({ line, reason: parsed.reason });
    }
    return contents;
  }

  /** Deletes a segment once every record in it is committed; drops a taken-over folder when empty. */
  remove(segment: JournalSegment): void {
    rmSync(segment.path, { force: true });
    this.lastSeqOf.delete(segment.path);
    if (!segment.own) {
      const dir = join(this.options.root, segment.chainId);
      const left = readdirSync(dir).filter((f) => f.endsWith(SEGMENT_SUFFIX));
      if (left.length === 0) {
        rmSync(dir, { recursive: true, force: true });
        this.owner.release(dir);
        this.claimed.delete(segment.chainId);
      }
    }
  }

  /**
   * Deletes this writer's segments whose records are all committed (through `seq`), the open one
   * only once it is full: a write-ahead journal shrinks as the database catches up.
   */
  retire(seq: number): void {
    for (const [path, lastSeq] of this.lastSeqOf) {
      if (lastSeq > seq) continue;
      if (path === this.segmentPath) {
        if (this.segmentRecords < MAX_SEGMENT_RECORDS) continue;
        this.closeSegment();
      }
      try {
        unlinkSync(path);
      } catch {
        // Already replayed and removed.
      }
      this.lastSeqOf.delete(path);
    }
  }

  /**
   * Records or raw lines that must never be replayed (a chain position taken by someone else, a
   * malformed line) go to the dead-letter file, never deleted: evidence for an investigation.
   */
  deadLetter(entries: ReadonlyArray<SealedAuditRecord | string>): boolean {
    try {
      mkdirSync(dirname(this.options.deadLetterPath), { recursive: true });
      const fd = openSync(this.options.deadLetterPath, 'a');
      try {
        let text = '';
        for (const entry of entries)
          text += typeof entry === 'string' ? `${entry}\n` : journalLine(entry);
        const bytes = Buffer.from(text, 'utf8');
        let offset = 0;
        while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the open segment; removes this writer's folders when empty, else hands them over. */
  close(): void {
    this.closeSegment();
    for (const dir of [this.ownDir, ...[...this.claimed].map((c) => join(this.options.root, c))]) {
      try {
        const left = readdirSync(dir).filter((f) => f.endsWith(SEGMENT_SUFFIX));
        if (left.length === 0) rmSync(dir, { recursive: true, force: true });
        else this.owner.handOver(dir);
      } catch {
        // Never created: nothing was journaled.
      }
    }
    this.owner.stop();
  }

  /** Deletes this writer's segments outright: everything in them is committed. */
  removeOwnCommitted(seq: number): void {
    for (const [path, lastSeq] of this.lastSeqOf) {
      if (lastSeq > seq) continue;
      if (path === this.segmentPath) this.closeSegment();
      rmSync(path, { force: true });
      this.lastSeqOf.delete(path);
    }
  }
}

function readHeader(dir: string): ChainHeader | null {
  try {
    const value = JSON.parse(readFileSync(join(dir, CHAIN_HEADER), 'utf8')) as ChainHeader;
    return typeof value === 'object' && value !== null ? value : null;
  } catch {
    return null;
  }
}
