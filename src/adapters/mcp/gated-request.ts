import { errorParts } from '../../_internal/describe-error.ts';
import type { Guard, OnDeny } from '../../guard-types.ts';
import type { JsonObject, JsonValue, ToolContext, ToolDenial } from '../../types.ts';
import type { McpGate } from './gate.ts';
import { idKey, paramsOf } from './json-rpc.ts';
import { decideMethod, deniedError, methodName } from './methods.ts';
import type { JsonRpcId, JsonRpcMessage } from './types.ts';

// The one runner of a client's decided requests (a `tools/call`, or another method: methods.ts),
// for the stdio proxy (proxy.ts) and the server-side transport (server.ts) alike: each brings its
// own plumbing (how a request reaches the server, how the client is answered). Fail closed: a
// failure anywhere in the decision or the answer becomes a JSON-RPC error, never a relay.

/** What one adapter decides its requests with. */
export interface GatedAdapter {
  readonly tg: Guard<OnDeny>;
  readonly gate: McpGate;
  /** The server's name for policies (`McpGateOptions.server`). */
  readonly server: string | undefined;
  /** `'throw'`: a denied `tools/call` is a JSON-RPC error rather than an `isError` result. */
  readonly onDeny: 'return' | 'throw';
  /** The decided requests in flight, by `idKey` of the client's id (the client's cancellation aborts one). */
  readonly inflight: Map<string, AbortController>;
  /** Called with each denial before the client is answered (the proxy's diagnostics). */
  readonly onDenial?: (denial: ToolDenial) => void;
}

/** One decided request of the client, and the adapter's plumbing for it. */
export interface GatedRequest {
  readonly message: JsonRpcMessage & { id: JsonRpcId; method: string };
  /** The call's context (read inside the runner: a failure there is answered as one). */
  context(): ToolContext | undefined;
  /** Sends the request to the server with the params the guard decided on; resolves with its answer. */
  forward(params: JsonObject, signal: AbortSignal): Promise<JsonRpcMessage>;
  /** Answers the client (a promise when the transport's send is asynchronous). */
  respond(response: JsonRpcMessage): void | Promise<void>;
  /** Runs once the request ended, however: frees its id, and cancels it at the server if still sent there. */
  ended(): void;
}

/** The guard's call options of a decided request. */
type CallOptions = { context?: ToolContext; signal: AbortSignal; toolCallId: string };

/**
 * Runs one decided request: sends it through the guard (forwarding it to the server only after an
 * allow) and answers the client with the server's response, the denial, or a JSON-RPC error. A
 * request the client cancelled gets no answer (MCP cancellation).
 */
export async function runGated(adapter: GatedAdapter, request: GatedRequest): Promise<void> {
  const { message } = request;
  const key = idKey(message.id);
  const controller = new AbortController();
  adapter.inflight.set(key, controller);
  try {
    const callOptions: CallOptions = { signal: controller.signal, toolCallId: String(message.id) };
    const context = request.context();
    if (context !== undefined) callOptions.context = context;
    const response = await decide(adapter, message, callOptions, request.forward);
    // A cancelled request gets no response (MCP cancellation).
    if (controller.signal.aborted) return;
    // Awaited only when the transport's send is asynchronous: the proxy writes at once.
    const sent = request.respond(response);
    if (sent !== undefined) await sent;
  } catch (error) {
    if (controller.signal.aborted) return;
    const sent = request.respond({
      jsonrpc: '2.0',
      id: message.id,
      error: { code: -32603, message: `toolgate: ${errorParts(error).message}` },
    });
    if (sent !== undefined) await sent;
  } finally {
    adapter.inflight.delete(key);
    request.ended();
  }
}

/**
 * The name a request's context sees (`McpCallInfo.tool`): the MCP tool name of a `tools/call`,
 * else `<server>:<method>`.
 */
export function gatedToolName(
  server: string | undefined,
  message: JsonRpcMessage & { method: string },
): string {
  return message.method === 'tools/call'
    ? String(paramsOf(message).name)
    : methodName(server, message.method);
}

/** Sends one request through the guard: the response the client gets (the server's, or a denial's). */
async function decide(
  adapter: GatedAdapter,
  message: JsonRpcMessage & { id: JsonRpcId; method: string },
  callOptions: CallOptions,
  forward: GatedRequest['forward'],
): Promise<JsonRpcMessage> {
  const params = paramsOf(message);
  if (message.method !== 'tools/call') {
    // Every other request but the protocol's own is decided as `<server>:<method>` (methods.ts).
    const outcome = await decideMethod(
      adapter.tg,
      adapter.server,
      message.method,
      params,
      forward,
      callOptions,
    );
    if (outcome.ok) return outcome.value;
    if (outcome.denial !== undefined) adapter.onDenial?.(outcome.denial);
    return { jsonrpc: '2.0', id: message.id, error: outcome.error };
  }
  const outcome = await adapter.gate.call(
    params.name,
    params.arguments,
    (args, signal) => forward({ ...params, arguments: args as JsonObject }, signal),
    callOptions,
    resultOf,
  );
  if (outcome.ok) return outcome.value;
  if (outcome.denial !== undefined) {
    adapter.onDenial?.(outcome.denial);
    if (adapter.onDeny === 'throw') {
      const text = outcome.result.content[0]?.text ?? 'toolgate denied this call';
      return { jsonrpc: '2.0', id: message.id, error: deniedError(text, outcome.denial, adapter.tg) };
    }
  }
  return { jsonrpc: '2.0', id: message.id, result: outcome.result as unknown as JsonValue };
}

/** What the audit trail records as the output of a forwarded call: the result, or the error. */
function resultOf(response: JsonRpcMessage): unknown {
  return response.error === undefined ? response.result : { error: response.error };
}
