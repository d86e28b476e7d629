import { toolNameProblem } from '../../_internal/names.ts';
import { refusingSchema } from '../../_internal/validate.ts';
import type { Guard, OnDeny } from '../../guard-types.ts';
import type { StandardSchemaV1 } from '../../standard-schema.ts';
import type { JsonObject, JsonValue, ToolContext, ToolDenial } from '../../types.ts';
import { denialFromError, denialMessage, detailOf } from '../_shared/denials.ts';
import { gateCallOptions } from './gate.ts';
import type { JsonRpcMessage } from './types.ts';

// Client requests other than `tools/call` that reach the server's data (`resources/read`,
// `prompts/get`, `completion/complete`, the listings): decided by the policy like a tool call,
// under the name `<server>:<method>`, and recorded. Only the protocol's own requests pass without
// a decision. Deny by default holds for them as for tools: no rule, no relay.

/** JSON-RPC error code of a toolgate denial (`data.code` carries the deny code). */
export const MCP_DENIED_ERROR = -32001;

/** Client requests relayed without a decision: the protocol's own (`tools/list` is pin-checked). */
const PASSED = new Set(['initialize', 'ping', 'tools/list', 'logging/setLevel']);

/** The client requests of MCP (2025-11-25) that are decided as `<server>:<method>`. */
const KNOWN = new Set([
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
]);

/** The one name every other method is decided under (denied), so they cannot grow the guard's registry. */
const UNKNOWN_METHOD = '(unknown-method)';

/** Whether a client request is decided as a method (every request but `tools/call` and the protocol's own). */
export function isDecidedMethod(method: string): boolean {
  return method !== 'tools/call' && !PASSED.has(method);
}

/**
 * The name policies see for a client request: `<server>:<method>` (`mcp:<method>` without a
 * server name). A tool's name always holds a dot (`<server>.<tool>`, and a server name has none)
 * and a method's never does, so the two never meet.
 */
export function methodName(server: string | undefined, method: string): string {
  return `${server ?? 'mcp'}:${method}`;
}

/** The outcome of a decided request: the server's response, or the error the client gets. */
export type MethodOutcome =
  | { readonly ok: true; readonly value: JsonRpcMessage }
  | {
      readonly ok: false;
      readonly error: { code: number; message: string; data?: JsonValue };
      /** The denial; absent when the server itself answered with an error. */
      readonly denial?: ToolDenial;
    };

/** Boxes the server's response so it is never mistaken for a denial; recorded as its result. */
class Relayed {
  constructor(
    readonly response: JsonRpcMessage,
    private readonly view: unknown,
  ) {}
  toJSON(): unknown {
    return this.view;
  }
}

/** The server answered with a JSON-RPC error: thrown inside the guard so the call is recorded as an error. */
class RelayedError extends Error {
  constructor(readonly response: JsonRpcMessage) {
    super(
      typeof response.error?.message === 'string'
        ? response.error.message
        : 'the server answered with an error',
    );
    this.name = 'McpRequestError';
  }
}

/**
 * Sends one client request through the guard as `<server>:<method>` with its params as the
 * arguments. `forward` runs only after an allow, with the frozen params that were decided on.
 */
export async function decideMethod(
  tg: Guard<OnDeny>,
  server: string | undefined,
  method: string,
  params: JsonObject,
  forward: (params: JsonObject, signal: AbortSignal) => Promise<JsonRpcMessage>,
  options: { context?: ToolContext; signal?: AbortSignal; toolCallId?: string },
): Promise<MethodOutcome> {
  const known = KNOWN.has(method) && toolNameProblem(methodName(server, method)) === undefined;
  const name = methodName(server, known ? method : UNKNOWN_METHOD);
  const toolOptions: { name: string; input?: StandardSchemaV1 } = { name };
  if (!known) {
    toolOptions.input = refusingSchema(
      'UNKNOWN_TOOL',
      `${JSON.stringify(method.slice(0, 100))} is not an MCP request toolgate knows; it may not be sent`,
    );
  }
  let relayed: RelayedError | undefined;
  const guarded = tg.guard(async (frozen: JsonObject, callOptions) => {
    const response = await forward(frozen, callOptions.signal);
    if (response.error !== undefined) {
      relayed = new RelayedError(response);
      throw relayed;
    }
    return new Relayed(response, response.result);
  }, toolOptions);
  const callOptions = gateCallOptions(options);
  try {
    const value: unknown = await guarded(params, callOptions);
    if (value instanceof Relayed) return { ok: true, value: value.response };
    return denied(value as ToolDenial, tg);
  } catch (error) {
    // The server's own error reaches the client as it sent it (scrubbed on the way out).
    if (relayed !== undefined)
      return { ok: false, error: relayed.response.error as { code: number; message: string } };
    const denial = denialFromError(error);
    if (denial !== undefined) return denied(denial, tg);
    throw error;
  }
}

function denied(denial: ToolDenial, tg: Guard<OnDeny>): MethodOutcome {
  return { ok: false, error: deniedError(denialMessage(denial, detailOf(tg)), denial, tg), denial };
}

/** The JSON-RPC error of a denial: the text the model reads, and the deny code (and, with `full` detail, the rule). */
export function deniedError(
  text: string,
  denial: ToolDenial,
  tg: Guard<OnDeny>,
): { code: number; message: string; data: JsonObject } {
  const data: Record<string, JsonValue> = { code: denial.code, tool: denial.tool };
  if (denial.retryAfterMs !== undefined) data.retryAfterMs = denial.retryAfterMs;
  if (detailOf(tg) === 'full') {
    if (denial.rule !== undefined) data.rule = denial.rule;
    data.failed = denial.failed as unknown as JsonValue;
  }
  return { code: MCP_DENIED_ERROR, message: text, data };
}
