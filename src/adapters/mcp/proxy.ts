import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Guard, OnDeny } from '../../guard-types.ts';
import type { JsonObject, JsonValue, ToolContext, ToolDenial } from '../../types.ts';
import { checkServerName, McpGate, type McpGateOptions } from './gate.ts';
import { idKey, isNotification, isRequest, isResponse, paramsOf } from './json-rpc.ts';
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
 * server sees it. `tools/list` answers are pin-checked (changed definitions are hidden); every other
 * message passes through unchanged, so it works with servers of any SDK or language. Resolves with
 * the server's exit code (128 + signal number when it was killed by a signal).
 */
export function runMcpProxy(tg: Guard<OnDeny>, options: McpProxyOptions): Promise<number> {
  // Configuration errors throw here, before the server is started.
  checkServerName(options.server);
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const listTimeoutMs = options.listTimeoutMs ?? 30_000;
  const nonce = randomBytes(9).toString('base64url');
  let nextId = 0;

  let child: ChildProcess;
  try {
    child = spawn(options.command, [...(options.args ?? [])], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: options.env ?? process.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
  } catch (error) {
    log(`toolgate mcp-proxy: cannot start ${options.command}: ${(error as Error).message}`);
    return Promise.resolve(127);
  }

  /** Our own requests to the server (tools/list) and to the client (elicitation). */
  const ownToServer = new Map<string, Waiter>();
  const ownToClient = new Map<string, Waiter>();
  /** Gated calls forwarded to the server, waiting for its answer. */
  const forwarded = new Map<string, Waiter>();
  const inflight = new Map<string, AbortController>();
  /** The client's `tools/list` requests, whose answers are pin-checked. */
  const listings = new Set<string>();
  let clientCapabilities: JsonObject | undefined;
  let serverGone = false;

  const writeUp = (message: JsonRpcMessage | string) => {
    output.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
  };
  const writeDown = (message: JsonRpcMessage | string) => {
    if (serverGone || child.stdin === null || child.stdin.destroyed) return;
    child.stdin.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
  };

  const ownRequest = (
    waiters: Map<string, Waiter>,
    write: (message: JsonRpcMessage) => void,
    method: string,
    params: JsonObject,
    timeoutMs: number | undefined,
    signal?: AbortSignal,
  ) =>
    new Promise<JsonRpcMessage>((resolve, reject) => {
      if (serverGone) return reject(new Error('the MCP server has exited'));
      const id = `toolgate-proxy:${nonce}:${nextId++}`;
      const key = idKey(id);
      const done = () => {
        waiters.delete(key);
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
      waiters.set(key, {
        resolve: (message) => {
          done();
          resolve(message);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      write({ jsonrpc: '2.0', id, method, params });
    });

  const gate = new McpGate(tg, options, async (cursor) => {
    const response = await ownRequest(
      ownToServer,
      writeDown,
      'tools/list',
      cursor === undefined ? {} : { cursor },
      listTimeoutMs,
    );
    if (response.error !== undefined) throw new Error(`tools/list failed: ${response.error.message}`);
    return response.result as { tools: unknown; nextCursor?: unknown };
  });

  const onCall = async (message: JsonRpcMessage & { id: JsonRpcId }) => {
    const params = paramsOf(message);
    const key = idKey(message.id);
    const controller = new AbortController();
    inflight.set(key, controller);
    try {
      const callOptions: { context?: ToolContext; signal: AbortSignal; toolCallId: string } = {
        signal: controller.signal,
        toolCallId: String(message.id),
      };
      if (options.context !== undefined) callOptions.context = options.context;
      const outcome = await gate.call(
        params.name,
        params.arguments,
        (args) =>
          new Promise<JsonRpcMessage>((resolve, reject) => {
            if (serverGone) return reject(new Error('the MCP server has exited'));
            forwarded.set(key, { resolve, reject });
            writeDown({ ...message, params: { ...params, arguments: args as JsonObject } });
          }),
        callOptions,
        resultOf,
      );
      // A cancelled request gets no response (MCP cancellation).
      if (controller.signal.aborted) return;
      if (outcome.ok) {
        writeUp(outcome.value);
      } else {
        if (outcome.denial !== undefined) log(`toolgate mcp-proxy: ${denialLine(outcome.denial)}`);
        writeUp({ jsonrpc: '2.0', id: message.id, result: outcome.result as unknown as JsonValue });
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      writeUp({
        jsonrpc: '2.0',
        id: message.id,
        error: { code: -32603, message: `toolgate: ${String((error as Error)?.message ?? error)}` },
      });
    } finally {
      inflight.delete(key);
      forwarded.delete(key);
    }
  };

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
      const own = ownToClient.get(idKey(message.id));
      if (own !== undefined) return own.resolve(message);
    } else if (method === 'tools/call') {
      // Only a well-formed request is decided and forwarded; a tools/call without a usable id
      // (a "notification", an id of null or another type) never reaches the server.
      if (!isRequest(message))
        return refuse((message as { id?: unknown }).id, -32600, 'invalid tools/call request');
      if (inflight.has(idKey(message.id))) return refuse(message.id, -32600, 'duplicate request id');
      void onCall(message);
      return;
    } else if (isRequest(message)) {
      if (message.method === 'tools/list') listings.add(idKey(message.id));
      if (message.method === 'initialize') {
        const capabilities = paramsOf(message).capabilities;
        if (typeof capabilities === 'object' && capabilities !== null && !Array.isArray(capabilities))
          clientCapabilities = capabilities;
      }
    } else if (isNotification(message) && message.method === 'notifications/cancelled') {
      const requestId = paramsOf(message).requestId;
      if (typeof requestId === 'string' || typeof requestId === 'number') {
        const controller = inflight.get(idKey(requestId));
        if (controller !== undefined) controller.abort(new Error('cancelled by the client'));
      }
    }
    // Re-serialized, so the server reads exactly what the proxy read (no duplicate-key ambiguity).
    writeDown(message as JsonRpcMessage);
  };

  const fromServer = (line: string) => {
    if (line.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      writeUp(line);
      return;
    }
    if (isResponse(message)) {
      const key = idKey(message.id);
      const own = ownToServer.get(key) ?? forwarded.get(key);
      if (own !== undefined) return own.resolve(message);
      if (listings.delete(key) && isObject(message.result)) {
        const result = message.result as JsonObject;
        writeUp({
          ...message,
          result: { ...result, tools: gate.observe(result.tools) as unknown as JsonValue },
        });
        return;
      }
    } else if (isNotification(message) && message.method === 'notifications/tools/list_changed') {
      gate.invalidate();
    }
    writeUp(line);
  };

  const clientLines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  const serverLines = createInterface({ input: child.stdout!, crlfDelay: Number.POSITIVE_INFINITY });
  clientLines.on('line', fromClient);
  serverLines.on('line', fromServer);

  let killTimer: NodeJS.Timeout | undefined;
  clientLines.on('close', () => {
    // The client is gone: close the server's stdin, then escalate if it does not exit.
    child.stdin?.end();
    const grace = options.exitGraceMs ?? 5_000;
    killTimer = setTimeout(() => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), grace);
      killTimer.unref();
    }, grace);
    killTimer.unref();
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
      ownRequest(ownToClient, writeUp, method, params, undefined, signal),
  });

  return new Promise<number>((resolve) => {
    const finish = (code: number) => {
      serverGone = true;
      if (killTimer !== undefined) clearTimeout(killTimer);
      const gone = new Error('the MCP server has exited');
      for (const waiters of [ownToServer, forwarded, ownToClient])
        for (const waiter of [...waiters.values()]) waiter.reject(gone);
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
      finish(code ?? (signal === null ? 1 : 128 + signalNumber(signal)));
    });
  });
}

interface Waiter {
  resolve(message: JsonRpcMessage): void;
  reject(error: Error): void;
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 1;
}

/** What the audit trail records as the output of a forwarded call: the result, or the error. */
function resultOf(response: JsonRpcMessage): unknown {
  return response.error === undefined ? response.result : { error: response.error };
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
