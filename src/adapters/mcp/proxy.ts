import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { guardRecorder } from '../../_internal/guard-records.ts';
import type { Guard, OnDeny } from '../../guard-types.ts';
import type { JsonObject, JsonValue, ToolContext, ToolDenial } from '../../types.ts';
import { checkServerName, McpGate, type McpGateOptions } from './gate.ts';
import { type GatedAdapter, runGated } from './gated-request.ts';
import { idKey, isNotification, isRequest, isResponse, paramsOf } from './json-rpc.ts';
import { isDecidedMethod } from './methods.ts';
import { type ClientRequest, forwardRequest, ownRequest, proxyRequestId, type Waiter } from './proxy-ids.ts';
import { exitCode, spawnServer, stopServer } from './proxy-process.ts';
import type { JsonRpcId, JsonRpcMessage } from './types.ts';

/** Options of `runMcpProxy`. */
export interface McpProxyOptions extends McpGateOptions {
  /** The server command and its arguments. */
  command: string;
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Context of every call (who runs the proxy, for whom). */
  context?: ToolContext;
  /** Where the MCP client's messages come from. @default process.stdin */
  input?: Readable;
  /** Where messages to the MCP client go. @default process.stdout */
  output?: Writable;
  /** Diagnostics, one line each (never stdout, which carries the protocol). @default stderr */
  log?: (line: string) => void;
  /** How long the proxy waits for the server to answer its own `tools/list`. @default 30_000 */
  listTimeoutMs?: number;
  /** How long the server gets to exit after its stdin closes, before SIGTERM (then SIGKILL). @default 5_000 */
  exitGraceMs?: number;
  /** Receives the proxy handle once the server is spawned (to send signals, or requests to the client). */
  onStart?: (proxy: McpProxyHandle) => void;
}

/** A running proxy. */
export interface McpProxyHandle {
  /** The server process. */
  readonly child: ChildProcess;
  /** The capabilities the client declared in `initialize`, once seen. */
  readonly clientCapabilities: JsonObject | undefined;
  /** Sends a request to the MCP client and resolves with its response (e.g. `elicitation/create`). */
  requestClient(method: string, params: JsonObject, signal?: AbortSignal): Promise<JsonRpcMessage>;
}

/**
 * A stdio MCP proxy at the JSON-RPC level: it spawns the server, relays newline-delimited JSON-RPC
 * both ways, and guards every `tools/call` (policy, pins, argument check, approval, audit) before the
 * server sees it, and every other client request but the protocol's own (`resources/read`,
 * `prompts/get`, …) as `<server>:<method>` (methods.ts). `tools/list` answers are pin-checked
 * (changed definitions are hidden); the rest passes through, so it works with servers of any SDK
 * or language. Each side sees only the
 * proxy's own random request ids (answers are mapped back; one to no request sent is dropped), and
 * with a guard that has secrets every message to the client is scrubbed of them. Resolves with the
 * server's exit code (128 + signal number when it was killed by a signal).
 */
export function runMcpProxy(tg: Guard<OnDeny>, options: McpProxyOptions): Promise<number> {
  // Configuration errors throw here, before the server is started.
  checkServerName(options.server);
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const listTimeoutMs = options.listTimeoutMs ?? 30_000;
  const recorder = guardRecorder(tg);

  const child = spawnServer(options, log);
  if (child === undefined) return Promise.resolve(127);

  // Every request the proxy sends carries an id of its own (proxy-ids.ts): neither side ever sees
  // the other's ids, and an answer is looked up only among the requests sent to the side it came from.
  /** The proxy's own requests to the server (tools/list) and to the client (elicitation), by id. */
  const ownToServer = new Map<string, Waiter>();
  const ownToClient = new Map<string, Waiter>();
  /** The client's requests passed on to the server, by the id the server was sent. */
  const toServer = new Map<string, ClientRequest>();
  /** The client's requests in flight, by the client's id: the id the server was sent. */
  const clientIds = new Map<string, string>();
  /** The gated calls, by the client's id. */
  const inflight = new Map<string, AbortController>();
  /** The server's requests passed on to the client, by the id the client was sent: the server's id. */
  const toClient = new Map<string, JsonRpcId>();
  let clientCapabilities: JsonObject | undefined;
  let serverGone = false;

  const writeUp = (message: JsonRpcMessage) => {
    // With secrets, nothing the server sends reaches the client unscrubbed, whatever the message.
    const shown = recorder === undefined ? message : recorder.shown(message);
    output.write(`${JSON.stringify(shown)}\n`);
  };
  const writeDown = (message: JsonRpcMessage) => {
    if (serverGone || child.stdin === null || child.stdin.destroyed) return;
    child.stdin.write(`${JSON.stringify(message)}\n`);
  };
  /** Tells the server a request it was sent is no longer wanted; its answer, if any, is dropped. */
  const cancelDown = (id: string, reason: string) => {
    if (!toServer.delete(id)) return;
    writeDown({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
  };

  const gate = new McpGate(tg, options, async (cursor) => {
    if (serverGone) throw new Error('the MCP server has exited');
    const response = await ownRequest('server', ownToServer, writeDown, {
      method: 'tools/list',
      params: cursor === undefined ? {} : { cursor },
      timeoutMs: listTimeoutMs,
    });
    if (response.error !== undefined) throw new Error(`tools/list failed: ${response.error.message}`);
    return response.result as { tools: unknown; nextCursor?: unknown };
  });

  const adapter: GatedAdapter = {
    tg,
    gate,
    server: options.server,
    onDeny: 'return',
    inflight,
    onDenial: (denial) => log(`toolgate mcp-proxy: ${denialLine(denial)}`),
  };
  /** Runs one decided request of the client (runGated): forwarded under `serverId`, answered under its own id. */
  const gated = (message: JsonRpcMessage & { id: JsonRpcId; method: string }, serverId: string) =>
    runGated(adapter, {
      message,
      context: () => options.context,
      forward: (params, signal) => {
        if (serverGone) return Promise.reject(new Error('the MCP server has exited'));
        return forwardRequest(toServer, serverId, message.id, signal, {
          write: () => writeDown({ ...message, id: serverId, params }),
          // The guard's abort (its timeout, or the client's cancellation) reaches the server.
          cancel: () => cancelDown(serverId, 'toolgate: the call was ended (timeout or cancellation)'),
        });
      },
      respond: (response) => writeUp({ ...response, id: message.id }),
      ended: () => {
        clientIds.delete(idKey(message.id));
        // Still waiting for the server (the call ended another way): its late answer is dropped.
        cancelDown(serverId, 'toolgate: the call was ended');
      },
    });

  const refuse = (id: unknown, code: number, text: string) =>
    writeUp({
      jsonrpc: '2.0',
      id: (typeof id === 'string' || typeof id === 'number' ? id : null) as JsonRpcId,
      error: { code, message: `toolgate: ${text}` },
    });

  const fromClient = (line: string) => {
    if (line.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      // Never pass on what the guard could not read: a laxer parser in the server (NaN, comments)
      // could find a tools/call in it.
      refuse(null, -32700, 'parse error');
      return;
    }
    if (Array.isArray(message)) {
      // A batch could carry a tools/call past the guard; MCP no longer uses batches.
      refuse(null, -32600, 'JSON-RPC batches are not supported');
      return;
    }
    if (typeof message !== 'object' || message === null) {
      refuse(null, -32600, 'not a JSON-RPC message');
      return;
    }
    const method = (message as { method?: unknown }).method;
    if (isResponse(message)) {
      const id = message.id;
      const own = typeof id === 'string' ? ownToClient.get(id) : undefined;
      if (own !== undefined) return own.resolve(message);
      const serverId = typeof id === 'string' ? toClient.get(id) : undefined;
      if (serverId === undefined)
        return log('toolgate mcp-proxy: dropped an answer to no request of the server');
      toClient.delete(id as string);
      writeDown({ ...message, id: serverId });
      return;
    }
    if (isRequest(message)) {
      const key = idKey(message.id);
      // Whatever its method: a second answer to one id would settle the wrong request.
      if (clientIds.has(key)) return refuse(message.id, -32600, 'duplicate request id (one is in flight)');
      const serverId = proxyRequestId('server');
      clientIds.set(key, serverId);
      if (message.method === 'tools/call' || isDecidedMethod(message.method)) {
        void gated(message, serverId);
        return;
      }
      if (message.method === 'initialize') {
        const capabilities = paramsOf(message).capabilities;
        if (isObject(capabilities)) clientCapabilities = capabilities as JsonObject;
      }
      toServer.set(serverId, { id: message.id, listing: message.method === 'tools/list' });
      // Re-serialized, so the server reads exactly what the proxy read (no duplicate-key ambiguity).
      writeDown({ ...message, id: serverId });
      return;
    }
    if (method === 'tools/call' || (typeof method === 'string' && 'id' in message)) {
      // Only a well-formed request is decided and forwarded; a tools/call without a usable id
      // (a "notification", an id of null or another type) never reaches the server.
      const text = method === 'tools/call' ? 'invalid tools/call request' : 'invalid request id';
      return refuse((message as { id?: unknown }).id, -32600, text);
    }
    if (!isNotification(message))
      return log('toolgate mcp-proxy: dropped a message of the client that is no JSON-RPC message');
    if (message.method === 'notifications/cancelled') {
      const requestId = paramsOf(message).requestId;
      if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
      const key = idKey(requestId);
      const controller = inflight.get(key);
      // A gated call: the guard's abort tells the server, if it was sent the call.
      if (controller !== undefined) return controller.abort(new Error('cancelled by the client'));
      const serverId = clientIds.get(key);
      if (serverId === undefined) return;
      // The client wants no answer now: one that still comes is dropped, and the id is free again.
      clientIds.delete(key);
      toServer.delete(serverId);
      writeDown({ ...message, params: { ...paramsOf(message), requestId: serverId } });
      return;
    }
    writeDown(message);
  };

  const fromServer = (line: string) => {
    if (line.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return log('toolgate mcp-proxy: dropped a line of the server that is not JSON');
    }
    if (isResponse(message)) {
      const id = message.id;
      const own = typeof id === 'string' ? ownToServer.get(id) : undefined;
      if (own !== undefined) return own.resolve(message);
      const request = typeof id === 'string' ? toServer.get(id) : undefined;
      // An answer to no request the server was sent (a late one, a guessed or retyped id) is dropped.
      if (request === undefined)
        return log('toolgate mcp-proxy: dropped an answer of the server to no request it was sent');
      toServer.delete(id as string);
      if (request.waiter !== undefined) return request.waiter.resolve(message);
      clientIds.delete(idKey(request.id));
      if (request.listing && isObject(message.result)) {
        const result = message.result as JsonObject;
        writeUp({
          ...message,
          id: request.id,
          result: { ...result, tools: gate.observe(result.tools) as unknown as JsonValue },
        });
        return;
      }
      writeUp({ ...message, id: request.id });
      return;
    }
    if (isRequest(message)) {
      // Renamed: a server's request can never carry an id of the proxy's own requests to the client.
      const clientId = proxyRequestId('client');
      toClient.set(clientId, message.id);
      writeUp({ ...message, id: clientId });
      return;
    }
    if (!isNotification(message))
      return log('toolgate mcp-proxy: dropped a message of the server that is no JSON-RPC message');
    if (message.method === 'notifications/tools/list_changed') gate.invalidate();
    if (message.method === 'notifications/cancelled') {
      const requestId = paramsOf(message).requestId;
      const clientId = [...toClient].find(([, serverId]) => serverId === requestId)?.[0];
      if (clientId === undefined) return;
      toClient.delete(clientId);
      writeUp({ ...message, params: { ...paramsOf(message), requestId: clientId } });
      return;
    }
    writeUp(message);
  };

  const clientLines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const serverLines = createInterface({ input: child.stdout!, crlfDelay: Number.POSITIVE_INFINITY });
  clientLines.on('line', fromClient);
  serverLines.on('line', fromServer);

  let stopping: (() => void) | undefined;
  clientLines.on('close', () => {
    // The client is gone: close the server's stdin, then escalate if it does not exit.
    stopping = stopServer(child, options.exitGraceMs ?? 5_000);
  });
  output.on('error', (error: Error) => {
    // The client went away (EPIPE); closing its input ends the session.
    log(`toolgate mcp-proxy: cannot write to the client: ${error.message}`);
  });
  child.stdin?.on('error', () => {
    // EPIPE after the server exited; the exit handler reports it.
  });

  options.onStart?.({
    child,
    get clientCapabilities() {
      return clientCapabilities;
    },
    requestClient: (method, params, signal) =>
      serverGone
        ? Promise.reject(new Error('the MCP server has exited'))
        : ownRequest('client', ownToClient, writeUp, {
            method,
            params,
            ...(signal === undefined ? {} : { signal }),
          }),
  });

  return new Promise<number>((resolve) => {
    const finish = (code: number) => {
      serverGone = true;
      stopping?.();
      const gone = new Error('the MCP server has exited');
      for (const waiters of [ownToServer, ownToClient])
        for (const waiter of [...waiters.values()]) waiter.reject(gone);
      for (const request of [...toServer.values()]) request.waiter?.reject(gone);
      clientLines.close();
      serverLines.close();
      if (input === process.stdin) process.stdin.pause();
      resolve(code);
    };
    child.once('error', (error) => {
      log(`toolgate mcp-proxy: cannot start ${options.command}: ${error.message}`);
      finish(127);
    });
    child.once('close', (code, signal) => {
      finish(exitCode(code, signal));
    });
  });
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The diagnostic line of a denial: the code, the reason, the rule and the paths of the failed
 * conditions, never their values (the model's text may carry them, with `denialDetail: 'full'`).
 */
function denialLine(denial: ToolDenial): string {
  const paths = [...new Set(denial.failed.map((entry) => entry.path))];
  const rule =
    denial.rule === undefined
      ? ''
      : ` [rule ${denial.rule}${paths.length === 0 ? '' : `; failed: ${paths.join(', ')}`}]`;
  return `toolgate denied ${denial.tool} (${denial.code}): ${denial.reason}${rule}`;
}
