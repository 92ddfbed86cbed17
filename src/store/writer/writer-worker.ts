/**
 * Entry point of the writer thread (see `WriterThread`): a `WriterCore` with connections of its
 * own, fed by the calling thread's messages, publishing its counters in shared memory.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { PostgresConnection } from '../postgres-connection.js';
import { createCheckpointSigner } from './checkpoint-signer.js';
import type { AuditLogger } from './logger.js';
import { SharedWriterStats } from './shared-stats.js';
import { CompiledRedactors } from './thread-redaction.js';
import { describeError, isConnectionError } from './write-errors.js';
import { WriterCore } from './writer-core.js';
import type { FromWriterThread, ToWriterThread, WriterThreadData } from './writer-thread-launch.js';

function serve(port: MessagePort, data: WriterThreadData): void {
  const send = (message: FromWriterThread) => port.postMessage(message);
  const shared = new SharedWriterStats(data.stats);
  const logger: AuditLogger = {
    warn: (message) => data.logs.postMessage({ level: 'warn', message }),
    error: (message) => data.logs.postMessage({ level: 'error', message }),
  };
  // The driver starts some promises of its own unawaited (a state fetch for
  // `target_session_attrs`): a connection lost during one rejects with nobody listening. That is
  // a lost connection, which the writer retries, not a reason for this thread to die.
  process.on('unhandledRejection', (reason) => {
    if (!isConnectionError(reason)) throw reason;
    logger.warn(
      `a database connection failed outside any statement; retrying: ${describeError(reason)}`,
    );
  });
  const prepares = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();
  let nextPrepare = 1;
  const prepare = () =>
    new Promise<void>((resolve, reject) => {
      const id = nextPrepare++;
      prepares.set(id, { resolve, reject });
      send({ type: 'prepare', id });
    });
  const store = new PostgresConnection({
    url: data.store.databaseUrl,
    maxConnections: data.store.maxConnections,
  });
  const { settings } = data;
  let core: WriterCore | null = null;
  /** While a message's records are enqueued: published once after them, never halfway. */
  let enqueuing = false;
  const publish = () => {
    if (core && !enqueuing) shared.publish(core.stats(), core.activity());
  };
  core = new WriterCore({
    store,
    chainId: data.chainId,
    serviceName: data.serviceName,
    writeTimeoutMs: settings.writeTimeoutMs,
    maxInFlight: settings.maxInFlight,
    batchSize: settings.batchSize,
    flushIntervalMs: settings.flushIntervalMs,
    maxQueueRecords: settings.maxQueueRecords,
    maxQueueBytes: settings.maxQueueBytes,
    journalDir: settings.journalDir,
    durability: settings.durability,
    groupCommitMs: settings.groupCommitMs,
    groupCommitRecords: settings.groupCommitRecords,
    journalStaleAfterMs: settings.journalStaleAfterMs,
    retry: { initialDelayMs: settings.retryInitialMs, maxDelayMs: settings.retryMaxMs },
    prepare: data.hasPrepare ? prepare : undefined,
    checkpoints: {
      everyRecords: settings.checkpointEveryRecords,
      everyMs: settings.checkpointEveryMs,
      signer: data.signingKey === null ? null : createCheckpointSigner(data.signingKey),
      witnessDir: data.witnessDir,
      witnessUrl: data.witnessUrl,
      onCheckpoint: data.reportsCheckpoints
        ? (checkpoint) => send({ type: 'checkpoint', checkpoint })
        : undefined,
    },
    logger,
    thread: 'inline',
    onProgress: publish,
  });
  publish();
  const writer = core;

  const redactors = new CompiledRedactors();
  const reportRedactionFailures = () => {
    const failures = redactors.takeFailures();
    if (failures.length > 0) send({ type: 'redactionFailures', failures });
  };
  port.on('message', (message: ToWriterThread) => {
    switch (message.type) {
      case 'redactor': {
        const problem = redactors.add(message.id, message.policy);
        if (problem !== null)
          logger.error(
            `a redaction policy cannot be compiled on the writer thread (${problem}); the values it should redact are stored as [REDACTION_FAILED] and counted as failures`,
          );
        break;
      }
      case 'records':
        // Held values are redacted here, before the record is sealed or journaled. The counters
        // are published between records only: a record past the memory bound is dropped within
        // its own enqueue, and the calling thread must never see the moment in between.
        enqueuing = true;
        try {
          const entries = JSON.parse(message.text) as unknown[];
          for (let i = 0; i < entries.length; i++) {
            const entry = entries[i];
            // Let go of each raw entry once taken: a collection meanwhile need not keep it.
            entries[i] = undefined;
            writer.enqueue(redactors.apply(entry));
          }
        } finally {
          enqueuing = false;
        }
        publish();
        reportRedactionFailures();
        break;
      case 'flush':
        void writer.flush().then(() => {
          publish();
          send({ type: 'done', id: message.id });
        });
        break;
      case 'shutdown':
        void writer
          .shutdown({ deadlineMs: message.deadlineMs })
          .then(() => store.close())
          .catch((error) => logger.error(`closing the writer thread's store failed: ${error}`))
          .finally(() => {
            publish();
            send({ type: 'done', id: message.id });
          });
        break;
      case 'persist':
        writer.persistBeforeExit();
        publish();
        shared.markPersisted();
        break;
      case 'prepared': {
        const waiting = prepares.get(message.id);
        prepares.delete(message.id);
        if (message.error === null) waiting?.resolve();
        else waiting?.reject(Object.assign(new Error(message.error.message), message.error));
        break;
      }
    }
  });
}

if (parentPort) serve(parentPort, workerData as WriterThreadData);
