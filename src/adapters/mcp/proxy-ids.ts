import { randomBytes } from 'node:crypto';
import type { JsonObject } from '../../types.ts';
import type { JsonRpcMessage } from './types.ts';

// The ids of the requests the stdio proxy (proxy.ts) sends: its own (tools/list to the server,
// elicitation/create to the client) and the ones it passes on under a new id (the client's to the
// server, the server's to the client). Each is random, so neither side can predict, reuse or
// answer an id it was not sent.

/** Which side a proxy id is sent to. */
export type ProxySide = 'server' | 'client';

/** A fresh id for a request the proxy sends to `side`: 128 random bits, never reused. */
export function proxyRequestId(side: ProxySide): string {
  return `toolgate-${side}:${randomBytes(16).toString('base64url')}`;
}

/** Someone waiting for the answer to one request. */
export interface Waiter {
  resolve(message: JsonRpcMessage): void;
  reject(error: Error): void;
}

/**
 * Sends one request of the proxy's own to `side` and resolves with its answer, as `waiters` sees
 * it (the answer is looked up there only for messages read from that side).
 */
export function ownRequest(
  side: ProxySide,
  waiters: Map<string, Waiter>,
  write: (message: JsonRpcMessage) => void,
  request: { method: string; params: JsonObject; timeoutMs?: number | undefined; signal?: AbortSignal },
): Promise<JsonRpcMessage> {
  return new Promise<JsonRpcMessage>((resolve, reject) => {
    const { method, timeoutMs, signal } = request;
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const id = proxyRequestId(side);
    const done = () => {
      waiters.delete(id);
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal?.reason ?? new Error('aborted'));
    };
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            done();
            reject(new Error(`no answer to ${method} within ${timeoutMs} ms`));
          }, timeoutMs);
    timer?.unref?.();
    signal?.addEventListener('abort', onAbort, { once: true });
    waiters.set(id, {
      resolve: (message) => {
        done();
        resolve(message);
      },
      reject: (error) => {
        done();
        reject(error);
      },
    });
    write({ jsonrpc: '2.0', id, method, params: request.params });
  });
}
