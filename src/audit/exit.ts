/** Something holding buffered audit records that must reach the file before the process ends. */
export interface ExitFlushable {
  flushSync(): void;
}

const open = new Set<ExitFlushable>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function flushAll(): void {
  for (const sink of open) {
    try {
      sink.flushSync();
    } catch {
      // Nothing can be reported while the process is going away.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  flushAll();
  // Listening to a signal disables Node's default exit; when nobody else listens, restore it.
  if (process.listenerCount(signal) === 1) {
    uninstall();
    process.kill(process.pid, signal);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', flushAll);
  process.on('beforeExit', flushAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', flushAll);
  process.off('beforeExit', flushAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/** Flushes `sink` synchronously on exit, `beforeExit`, SIGINT, SIGTERM and SIGHUP until removed. */
export function flushOnExit(sink: ExitFlushable): () => void {
  open.add(sink);
  install();
  return () => {
    open.delete(sink);
    if (open.size === 0) uninstall();
  };
}
