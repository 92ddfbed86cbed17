/**
 * Flushes on `beforeExit`, shuts down on SIGTERM/SIGINT, and on `exit` (process.exit(), an
 * uncaught exception) journals synchronously whatever is still in memory. A signal listener
 * disables Node's default "exit on signal", so once drained we re-raise the signal ourselves
 * unless the app has listeners of its own (then exiting is the app's call).
 */
export function installShutdownHooks(target: {
  flush(): Promise<void>;
  shutdown(): Promise<void>;
  persistBeforeExit(): void;
}): () => void {
  const onBeforeExit = () => {
    void target.flush();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    remove();
    void target.shutdown().finally(() => {
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  const onExit = () => target.persistBeforeExit();
  process.on('beforeExit', onBeforeExit);
  process.on('exit', onExit);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const remove = () => {
    process.off('beforeExit', onBeforeExit);
    process.off('exit', onExit);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
  return remove;
}
