import { randomBytes } from 'node:crypto';
import { guardRecorder } from '../../_internal/guard-records.ts';
import { ConfigurationError } from '../../errors.ts';
import type { Guard, OnDeny } from '../../guard-types.ts';
import type { JsonObject, JsonValue, ToolContext } from '../../types.ts';
import { resolveContext } from '../_shared/host-call.ts';
import { type OnDenyOption, parseOnDeny } from '../_shared/on-deny.ts';
import { checkServerName, McpGate, type McpGateOptions } from './gate.ts';
import { type GatedAdapter, gatedToolName, runGated } from './gated-request.ts';
import { idKey, isNotification, isRequest, isResponse, paramsOf } from './json-rpc.ts';
import { isDecidedMethod } from './methods.ts';
import type { JsonRpcMessage, McpMessageExtra, McpTransport } from './types.ts';

/** How long the server may take to answer the guard's own `tools/list`. */
const LIST_TIMEOUT_MS = 30_000;

/** What `context` receives for each call on a guarded server. */
export interface McpCallInfo {
  /** The MCP tool name. */
  readonly tool: string;
  /** The transport's session id, if it has one. */
  readonly sessionId: string | undefined;
  /** What the transport passed along with the request (`authInfo`, `requestInfo`). */
  readonly extra: McpMessageExtra | undefined;
}

/** Options of `guardMcpServer` and `guardTransport`. */
export interface GuardMcpServerOptions extends McpGateOptions {
  /** The context of each call (agent, principal…), from the host's view of the connection. */
  context?: ToolContext | ((call: McpCallInfo) => ToolContext);
  /**
   * `'return'`: a denial is a tool result with `isError: true`, which the model reads (the MCP way).
   * `'throw'`: a JSON-RPC error (code {@link MCP_DENIED_ERROR}) whose `data` carries the deny code
   * (and, with `denialDetail: 'full'`, the rule and failed conditions), for clients that handle
   * refusals in code. `'result'` and `'message'` are deprecated spellings of `'return'`.
   * @default 'return'
   */
  onDeny?: OnDenyOption;
}

export { MCP_DENIED_ERROR } from './methods.ts';

/**
 * An MCP server of the TypeScript SDK: `McpServer` (v1, v2) or the low-level `Server`. Typed loosely
 * so that any SDK version fits; what matters is `connect(transport)` (and `server` for `McpServer`).
 */
export interface McpServerLike {
  connect(transport: never): Promise<unknown>;
  /** The low-level server inside an `McpServer`. */
  readonly server?: unknown;
  readonly transport?: unknown;
}

type Connectable = { connect(transport: McpTransport): Promise<unknown>; readonly transport?: unknown };

/**
 * Guards every `tools/call` of an MCP server built with `@modelcontextprotocol/sdk` (v1 `McpServer`
 * or `Server`; the v2 servers have the same `connect`). Call it before `connect()`: each transport
 * the server connects to is wrapped with {@link guardTransport}, so tools registered at any time are
 * covered. Denials reach the client as tool results with `isError: true`.
 *
 * @example
 * const server = new McpServer({ name: 'files', version: '1.0.0' });
 * server.registerTool('read', { inputSchema: { path: z.string() } }, read);
 * guardMcpServer(server, tg, { context: { agent: 'files-mcp' } });
 * await server.connect(new StdioServerTransport());
 */
export function guardMcpServer<S extends McpServerLike>(
  server: S,
  tg: Guard<OnDeny>,
  options: GuardMcpServerOptions = {},
): S {
  checkServerName(options.server);
  parseOnDeny(options.onDeny, 'guardMcpServer');
  const inner = server?.server as Connectable | undefined;
  const target =
    typeof inner === 'object' && inner !== null && typeof inner.connect === 'function'
      ? inner
      : (server as unknown as Connectable);
  if (typeof target?.connect !== 'function')
    throw new ConfigurationError('guardMcpServer() takes an MCP server with a connect() method');
  if (target.transport !== undefined)
    throw new ConfigurationError('guardMcpServer() must be called before the server is connected');
  const connect = target.connect;
  Object.defineProperty(target, 'connect', {
    configurable: true,
    writable: true,
    value: (transport: McpTransport) => connect.call(target, guardTransport(transport, tg, options)),
  });
  return server;
}

/**
 * Wraps an MCP transport on the server side: `tools/call` requests go through the guard before the
 * server sees them, and so does every other client request but the protocol's own (as
 * `<server>:<method>`, methods.ts); every other message passes (scrubbed of the guard's secrets,
 * if it has any). A request with the id of one in flight is refused; a call the guard ends is cancelled at
 * the server. Works with any transport and SDK version, since it acts on JSON-RPC messages. The
 * tool list is read from the server itself with `tools/list` requests the client never sees.
 */
export function guardTransport(
  transport: McpTransport,
  tg: Guard<OnDeny>,
  options: GuardMcpServerOptions = {},
): McpTransport {
  if (typeof transport?.send !== 'function' || typeof transport.start !== 'function')
    throw new ConfigurationError('guardTransport() takes an MCP transport');
  const onDeny = parseOnDeny(options.onDeny, 'guardMcpServer');
  const recorder = guardRecorder(tg);
  /** Our own requests to the server, and gated calls waiting for the server's response. */
  const waiting = new Map<
    string,
    { resolve: (message: JsonRpcMessage) => void; reject: (error: Error) => void }
  >();
  const inflight = new Map<string, AbortController>();
  /** The client's requests the server has not answered yet (any method). */
  const pending = new Set<string>();
  /**
   * Gated calls the guard ended (timeout, cancellation) after the server was sent them: its late
   * answer is dropped, and their ids are never taken again.
   */
  const cancelled = new Set<string>();
  /** The client's own `tools/list` requests, whose answers are pin-checked on the way out. */
  const listings = new Set<string>();
  let deliver: ((message: JsonRpcMessage, extra?: McpMessageExtra) => void) | undefined;

  const ask = (
    message: JsonRpcMessage & { id: string | number },
    extra?: McpMessageExtra,
    timeoutMs?: number,
    signal?: AbortSignal,
  ) =>
    new Promise<JsonRpcMessage>((resolve, reject) => {
      if (deliver === undefined) return reject(new Error('the server is not connected'));
      if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
      const key = idKey(message.id);
      // The guard's abort (its timeout, or the client's cancellation) reaches the server: the
      // tool's own signal aborts, and an answer it still sends is dropped.
      const onAbort = () => {
        if (!waiting.delete(key)) return;
        clearTimeout(timer);
        cancelled.add(key);
        deliver?.({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: message.id, reason: 'toolgate: the call was ended (timeout or cancellation)' },
        });
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              waiting.delete(key);
              reject(new Error(`no answer to ${message.method} within ${timeoutMs} ms`));
            }, timeoutMs);
      timer?.unref?.();
      waiting.set(key, {
        resolve: (response) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(response);
        },
        reject: (error) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      deliver(message, extra);
    });

  const gate = new McpGate(tg, options, async (cursor) => {
    // Random per request: a client cannot send a request with the id of one of ours.
    const id = `toolgate:${randomBytes(16).toString('base64url')}`;
    const response = await ask(
      {
        jsonrpc: '2.0',
        id,
        method: 'tools/list',
        params: cursor === undefined ? {} : { cursor },
      },
      undefined,
      LIST_TIMEOUT_MS,
    );
    if (response.error !== undefined) throw new Error(`tools/list failed: ${response.error.message}`);
    return response.result as { tools: unknown; nextCursor?: unknown };
  });

  const adapter: GatedAdapter = { tg, gate, server: options.server, onDeny, inflight };
  /** Runs one decided request of the client (runGated): forwarded under its own id, answered through the transport. */
  const gated = (
    message: JsonRpcMessage & { id: string | number; method: string },
    extra?: McpMessageExtra,
  ) =>
    runGated(adapter, {
      message,
      context: () =>
        typeof options.context === 'function'
          ? resolveContext(options.context, {
              tool: gatedToolName(options.server, message),
              sessionId: transport.sessionId,
              extra,
            })
          : options.context,
      forward: (params, signal) => ask({ ...message, params }, extra, undefined, signal),
      respond: (response) => transport.send(response),
      ended: () => {
        const key = idKey(message.id);
        pending.delete(key);
        // A call that ended while the server still had it: told so, and its late answer is dropped.
        if (waiting.delete(key)) {
          cancelled.add(key);
          deliver?.({
            jsonrpc: '2.0',
            method: 'notifications/cancelled',
            params: { requestId: message.id, reason: 'toolgate: the call was ended' },
          });
        }
      },
    });

  const wrapped: McpTransport = {
    start: () => transport.start(),
    close: () => transport.close(),
    send(message, sendOptions) {
      if (isResponse(message)) {
        const key = idKey(message.id);
        const waiter = waiting.get(key);
        if (waiter !== undefined) {
          waiting.delete(key);
          waiter.resolve(message);
          return Promise.resolve();
        }
        // The late answer of a call the guard ended: the client had its one response.
        if (cancelled.has(key)) return Promise.resolve();
        pending.delete(key);
        if (listings.delete(key) && isObjectResult(message.result)) {
          const result = message.result as JsonObject;
          message = {
            ...message,
            result: { ...result, tools: gate.observe(result.tools) as unknown as JsonValue },
          };
        }
      } else if (isNotification(message) && message.method === 'notifications/tools/list_changed') {
        gate.invalidate();
      }
      // With secrets, nothing the server sends reaches the client unscrubbed, whatever the message.
      const shown = recorder === undefined ? message : (recorder.shown(message) as JsonRpcMessage);
      return transport.send(shown, sendOptions);
    },
    get sessionId() {
      return transport.sessionId;
    },
    get onclose() {
      return transport.onclose;
    },
    set onclose(handler) {
      transport.onclose =
        handler === undefined
          ? undefined
          : () => {
              // Nothing will answer now: settle every wait (gated calls then fail, never run).
              const closed = new Error('the connection closed');
              for (const waiter of [...waiting.values()]) waiter.reject(closed);
              waiting.clear();
              handler();
            };
    },
    get onerror() {
      return transport.onerror;
    },
    set onerror(handler) {
      transport.onerror = handler;
    },
    get onmessage() {
      return deliver;
    },
    set onmessage(handler) {
      deliver = handler;
      transport.onmessage =
        handler === undefined
          ? undefined
          : (message, extra) => {
              const refuse = (text: string) => {
                const id = message.id;
                if (typeof id !== 'string' && typeof id !== 'number') return;
                void transport
                  .send({ jsonrpc: '2.0', id, error: { code: -32600, message: `toolgate: ${text}` } })
                  .catch((error: unknown) => transport.onerror?.(error as Error));
              };
              if (isRequest(message)) {
                const key = idKey(message.id);
                // Whatever its method: a second answer to one id would settle the wrong request
                // (and let the first one's real answer out unrecorded).
                if (pending.has(key) || waiting.has(key) || cancelled.has(key))
                  return refuse('duplicate request id (one is in flight)');
                pending.add(key);
                if (message.method === 'tools/call' || isDecidedMethod(message.method)) {
                  void gated(message, extra).catch((error: unknown) => transport.onerror?.(error as Error));
                  return;
                }
                if (message.method === 'tools/list') listings.add(key);
              } else if (message?.method === 'tools/call') {
                // Only a well-formed request is decided and forwarded; anything else named
                // tools/call (no id, an id of another type) never reaches the server.
                return refuse('invalid tools/call request');
              }
              if (isNotification(message) && message.method === 'notifications/cancelled') {
                const requestId = paramsOf(message).requestId;
                if (typeof requestId === 'string' || typeof requestId === 'number') {
                  const key = idKey(requestId);
                  const controller = inflight.get(key);
                  // A gated call: the guard's abort tells the server, if it was sent the call.
                  if (controller !== undefined) return controller.abort(new Error('cancelled by the client'));
                  // The server does not answer a cancelled request; its id is free again.
                  pending.delete(key);
                }
              }
              handler(message, extra);
            };
    },
  };
  if (transport.setProtocolVersion !== undefined) {
    wrapped.setProtocolVersion = (version) => transport.setProtocolVersion?.(version);
  }
  return wrapped;
}

function isObjectResult(result: unknown): boolean {
  return typeof result === 'object' && result !== null && !Array.isArray(result);
}
