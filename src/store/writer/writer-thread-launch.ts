/**
 * How the writer thread is started (see `WriterThread`): what it is given, the messages between
 * the threads, and when a thread of its own is possible at all.
 */
import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { type MessagePort, Worker } from 'node:worker_threads';
import type { RedactionPolicy } from '../../sanitize/types.js';
import type { CheckpointRecord } from '../audit-record.js';
import { threadEnv, threadExecArgv } from '../thread-options.js';
import { signingKeyOf } from './checkpoint-signer.js';
import type { AuditLogger } from './logger.js';
import type { AuditWriterOptions } from './writer-core.js';
import type { WriterSettings } from './writer-settings.js';

/** Everything the writer thread is started with: plain values, cloned into it. */
export interface WriterThreadData {
  store: { databaseUrl: string; maxConnections?: number };
  chainId: string;
  serviceName: string | null;
  settings: WriterSettings;
  signingKey: string | KeyObject | null;
  witnessDir: string | null;
  witnessUrl: string | null;
  /** The caller passed `prepare` / `onCheckpoint`: the thread asks for, or reports, them. */
  hasPrepare: boolean;
  reportsCheckpoints: boolean;
  stats: SharedArrayBuffer;
  /** Where the thread sends log lines (read without waiting for an event loop turn). */
  logs: MessagePort;
}

/** A log line of the writer thread, for the caller's logger. */
export interface ThreadLogLine {
  level: keyof AuditLogger;
  message: string;
}

/**
 * Calling thread → writer thread. Records travel as one JSON array text per message; a redaction
 * policy is announced before the first record whose held values it must redact.
 */
export type ToWriterThread =
  | { type: 'records'; text: string }
  | { type: 'redactor'; id: number; policy: RedactionPolicy }
  | { type: 'flush'; id: number }
  | { type: 'shutdown'; id: number; deadlineMs: number }
  | { type: 'persist' }
  | { type: 'prepared'; id: number; error: { message: string; code?: string } | null };

/** Writer thread → calling thread. */
export type FromWriterThread =
  | { type: 'done'; id: number }
  | { type: 'checkpoint'; checkpoint: CheckpointRecord }
  | { type: 'prepare'; id: number }
  /** Values the thread's redactors failed on since the last report: [redactor number, count]. */
  | { type: 'redactionFailures'; failures: Array<[number, number]> };

/**
 * Why the writer cannot run on a thread of its own, or null when it can: the thread opens its
 * own connections (an embedded store lives in this thread only), rebuilds the signer from its
 * key, and buys a core only where there is a second one.
 */
export function whyNotThreaded(options: AuditWriterOptions): string | null {
  if (options.store.reopenOptions === undefined)
    return `the ${options.store.kind} store cannot be opened from another thread`;
  const signer = options.checkpoints?.signer;
  if (signer && signingKeyOf(signer) === undefined)
    return 'the checkpoint signer was not made by createCheckpointSigner';
  if (availableParallelism() < 2) return 'this machine has one CPU';
  return null;
}

/**
 * The writer thread's young generation (V8's default is 48 MiB: 16 MiB semi-spaces): records live
 * from their arrival until their COPY commits, long enough to outlive several scavenges and be
 * promoted at the default size; with 32 MiB semi-spaces most die young, and collection costs the
 * thread about a tenth less CPU per record, for at most 48 MiB more memory.
 */
const WRITER_YOUNG_GENERATION_MB = 96;

/**
 * The worker's entry (the built .js beside this file, or the .ts source through tsx) without
 * the app's preloads: an instrumentation or APM agent loaded with `--import`/`--require` (or in
 * NODE_OPTIONS, which a worker reads again) would otherwise start in the writer thread too, and
 * trace or export the writer's own database and file I/O.
 */
export function startWorker(data: WriterThreadData): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './writer-worker.ts' : './writer-worker.js', import.meta.url);
  return new Worker(entry, {
    workerData: data,
    transferList: [data.logs],
    execArgv: threadExecArgv(fromSource),
    env: threadEnv(),
    name: `aitrail writer ${data.chainId}`,
    resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB },
  });
}
