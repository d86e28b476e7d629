import { randomBytes } from 'node:crypto';
import type { JsonObject } from '../../types.ts';
import type { JsonRpcId, JsonRpcMessage } from './types.ts';

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
    waiters.set(id, settling(done, resolve, reject));
    write({ jsonrpc: '2.0', id, method, params: request.params });
  });
}

/** A client's request passed on to the server. */
export interface ClientRequest {
  /** The client's id, which its answer gets back. */
  readonly id: JsonRpcId;
  /** A `tools/list`, whose answer is pin-checked. */
  readonly listing: boolean;
  /** A gated call's forward, waiting for the server's answer. */
  readonly waiter?: Waiter;
}

/**
 * Passes a decided request of the client (id `clientId`) on to the server under `serverId` and
 * resolves with the server's answer; `requests` is where that answer is looked up. An abort of
 * `signal` calls `cancel` (which tells the server) and rejects.
 */
export function forwardRequest(
  requests: Map<string, ClientRequest>,
  serverId: string,
  clientId: JsonRpcId,
  signal: AbortSignal,
  send: { write: () => void; cancel: () => void },
): Promise<JsonRpcMessage> {
  return new Promise<JsonRpcMessage>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason ?? new Error('aborted'));
    const onAbort = () => {
      send.cancel();
      reject(signal.reason ?? new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const settled = () => signal.removeEventListener('abort', onAbort);
    requests.set(serverId, { id: clientId, listing: false, waiter: settling(settled, resolve, reject) });
    send.write();
  });
}

/** A waiter that runs `done` (its clean-up) before it settles. */
function settling(
  done: () => void,
  resolve: (message: JsonRpcMessage) => void,
  reject: (error: Error) => void,
): Waiter {
  return {
    resolve: (message) => {
      done();
      resolve(message);
    },
    reject: (error) => {
      done();
      reject(error);
    },
  };
}
