import { QUEUE_CHANNEL } from '../approval/queue.ts';
import type { StateStore, Unsubscribe } from '../store/types.ts';

/** One open event stream: it gets a notice whenever the queue may have changed. */
type Listener = () => void;

/**
 * Watches the approval queue for the open event streams: wakes on the store's notification where
 * the store has one, and re-reads every `pollMs` anyway (a lost notification, or a store without
 * channels), only while someone is watching.
 */
export class QueueWatch {
  private readonly listeners = new Set<Listener>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private unsubscribe: Promise<Unsubscribe | undefined> | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly pollMs: number,
  ) {}

  add(listener: Listener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private wake = (): void => {
    for (const listener of [...this.listeners]) listener();
  };

  private start(): void {
    this.timer = setInterval(this.wake, this.pollMs);
    this.timer.unref?.();
    if (typeof this.store.subscribe === 'function') {
      this.unsubscribe = Promise.resolve(this.store.subscribe(QUEUE_CHANNEL, this.wake)).catch(
        () => undefined,
      );
    }
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    const pending = this.unsubscribe;
    this.unsubscribe = undefined;
    void pending?.then((off) => off?.()).catch(() => {});
  }

  close(): void {
    this.listeners.clear();
    this.stop();
  }
}

/**
 * A server-sent event stream: `send` writes one event; `heartbeat` keeps proxies from closing an
 * idle connection; `onClose` runs once when the client goes away or the stream is closed.
 */
/** An open event stream (see `eventStream`). */
export interface EventStream {
  readonly body: ReadableStream<Uint8Array>;
  send(event: string, data: unknown): void;
  close(): void;
  readonly closed: boolean;
}

export function eventStream(signal: AbortSignal | undefined, onClose: () => void): EventStream {
  const encoder = new TextEncoder();
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    signal?.removeEventListener('abort', close);
    try {
      controller?.close();
    } catch {
      // Already closed by the other side.
    }
    onClose();
  };
  const write = (text: string) => {
    if (closed || controller === undefined) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      close();
    }
  };
  const heartbeat = setInterval(() => write(': keep-alive\n\n'), 15_000);
  heartbeat.unref?.();
  signal?.addEventListener('abort', close, { once: true });
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      write('retry: 1000\n\n');
    },
    cancel: close,
  });
  return {
    body,
    send(event: string, data: unknown): void {
      write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close,
    get closed(): boolean {
      return closed;
    },
  };
}
