import type { Cluster, Redis } from 'ioredis';
import type { Unsubscribe } from '../../store/types.ts';

/**
 * The Redis store's notification channels (`subscribe`; `notify` publishes on the store's own
 * client). Every subscription shares one duplicate connection, made on the first: a subscribed
 * connection can do nothing else. ioredis subscribes it again after a reconnect by itself.
 */
export class RedisChannels {
  private subscriber: Redis | Cluster | undefined;
  /** Listeners by the channel's full name. */
  private readonly listeners = new Map<string, Set<(message: string) => void>>();
  private closed = false;

  constructor(private readonly client: Redis | Cluster) {}

  /** Listens on channel `name` (already prefixed) until the returned function is called. */
  async subscribe(name: string, listener: (message: string) => void): Promise<Unsubscribe> {
    const sub = this.connection();
    let listeners = this.listeners.get(name);
    const entry = (message: string) => listener(message);
    if (listeners === undefined) {
      listeners = new Set();
      this.listeners.set(name, listeners);
      listeners.add(entry);
      try {
        await sub.subscribe(name);
      } catch (error) {
        listeners.delete(entry);
        if (listeners.size === 0) this.listeners.delete(name);
        throw error;
      }
    } else {
      listeners.add(entry);
    }
    return async () => {
      const current = this.listeners.get(name);
      if (current === undefined || !current.delete(entry)) return;
      if (current.size === 0) {
        this.listeners.delete(name);
        if (!this.closed) await sub.unsubscribe(name).catch(() => undefined);
      }
    };
  }

  /** Drops every listener and closes the shared connection, if one was made. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub === undefined) return;
    try {
      await sub.quit();
    } catch {
      sub.disconnect();
    }
  }

  private connection(): Redis | Cluster {
    if (this.subscriber !== undefined) return this.subscriber;
    // Called without arguments, duplicate() is the same on a client and a cluster; ioredis 6's types
    // make the union of the two signatures uncallable.
    const sub = (this.client as { duplicate(): Redis | Cluster }).duplicate();
    this.subscriber = sub;
    sub.on('message', (channel: string, message: string) => {
      const listeners = this.listeners.get(channel);
      if (listeners === undefined) return;
      for (const listener of [...listeners]) {
        try {
          listener(message);
        } catch {
          // A listener's failure is its own.
        }
      }
    });
    sub.on('error', () => {});
    return sub;
  }
}
