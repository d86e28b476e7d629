import { ConfigurationError } from '../../errors.ts';
import type { Guard, OnDeny } from '../../guard-types.ts';
import type { JsonObject, ToolContext } from '../../types.ts';
import { McpGate, type McpGateOptions } from './gate.ts';
import type { McpCallToolResult, McpTool } from './types.ts';

/**
 * The parts of an MCP `Client` (`@modelcontextprotocol/sdk` v1, or v2) that `guardMcpClient` uses:
 * `callTool(params, resultSchema?, options?)` and `listTools(params?)`. Typed loosely so that any
 * SDK version fits.
 */
export interface McpClientLike {
  callTool(params: never, resultSchema?: never, options?: never): Promise<unknown>;
  listTools(params?: never, options?: never): Promise<unknown>;
}

interface ClientCalls {
  callTool(params: McpCallToolParams, resultSchema: unknown, options: object): Promise<unknown>;
  listTools(params?: { cursor?: string }): Promise<{ tools: unknown; nextCursor?: unknown }>;
}

/** Parameters of a guarded `callTool`. */
export interface McpCallToolParams {
  name: string;
  arguments?: Record<string, unknown>;
  _meta?: Record<string, unknown>;
}

/** Request options of a guarded `callTool`: the client's own, plus a per-call toolgate context. */
export interface McpCallToolOptions {
  signal?: AbortSignal;
  /** Merged over `tg.withContext()` and the adapter's `context`. */
  context?: ToolContext;
  [key: string]: unknown;
}

/** Options of `guardMcpClient`. */
export interface GuardMcpClientOptions extends McpGateOptions {
  /** The context of every call made through this client. */
  context?: ToolContext;
}

/** A client whose tool calls go through the guard. */
export interface GuardedMcpClient {
  /**
   * The client's `callTool`, guarded: the call reaches the server only after an allow, with the
   * arguments that were decided on. A denial resolves with `{ content: [{ type: 'text', text }], isError: true }`.
   */
  callTool(
    params: McpCallToolParams,
    resultSchema?: unknown,
    options?: McpCallToolOptions,
  ): Promise<McpCallToolResult>;
  /**
   * The client's `listTools`, with pins checked: a tool whose definition changed since it was pinned
   * is left out (and its calls are denied until it is re-approved).
   */
  listTools(params?: { cursor?: string }): Promise<{ tools: McpTool[]; nextCursor?: string }>;
  /** Marks the tool list out of date, e.g. on `notifications/tools/list_changed`: the next call re-lists. */
  invalidate(): void;
}

/**
 * Guards the tool calls an app makes through an MCP client. Tool definitions are read with
 * `listTools`, pinned, and used to check arguments (undeclared keys are refused); server
 * annotations never change a decision.
 *
 * @example
 * const client = new Client({ name: 'app', version: '1.0.0' });
 * await client.connect(transport);
 * const guarded = guardMcpClient(client, tg, { server: 'github' });
 * const result = await guarded.callTool({ name: 'create_issue', arguments: { title: 'Bug' } });
 */
export function guardMcpClient(
  client: McpClientLike,
  tg: Guard<OnDeny>,
  options: GuardMcpClientOptions = {},
): GuardedMcpClient {
  if (typeof client?.callTool !== 'function' || typeof client.listTools !== 'function')
    throw new ConfigurationError('guardMcpClient() takes an MCP client with callTool() and listTools()');
  const calls = client as unknown as ClientCalls;
  const gate = new McpGate(tg, options, (cursor) =>
    calls.listTools(cursor === undefined ? undefined : { cursor }),
  );
  return {
    async callTool(params, resultSchema, callOptions = {}) {
      const { context, ...clientOptions } = callOptions;
      const merged = mergeContexts(options.context, context);
      const gateOptions: { context?: ToolContext; signal?: AbortSignal } = {};
      if (merged !== undefined) gateOptions.context = merged;
      if (clientOptions.signal !== undefined) gateOptions.signal = clientOptions.signal;
      // Read once, before the decision: the request sent is built from this copy, so a caller
      // that changes its params object (or a getter) while approval is pending changes nothing.
      const name: unknown = params?.name;
      const args: unknown = params?.arguments;
      const meta = copyOf(params?._meta);
      const outcome = await gate.call(
        name,
        args,
        async (decided: JsonObject, signal) => {
          const forwarded: McpCallToolParams = { name: name as string, arguments: decided };
          if (meta !== undefined) forwarded._meta = meta;
          return (await calls.callTool(forwarded, resultSchema, {
            ...clientOptions,
            signal,
          })) as McpCallToolResult;
        },
        gateOptions,
      );
      return outcome.ok ? outcome.value : outcome.result;
    },
    async listTools(params) {
      const page = await calls.listTools(params);
      const result: { tools: McpTool[]; nextCursor?: string } = { tools: gate.observe(page?.tools) };
      if (typeof page.nextCursor === 'string') result.nextCursor = page.nextCursor;
      return result;
    },
    invalidate() {
      gate.invalidate();
    },
  };
}

/** A copy of `_meta` taken when the call is made (undefined stays undefined). */
function copyOf(meta: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return meta === undefined ? undefined : structuredClone(meta);
}

function mergeContexts(
  outer: ToolContext | undefined,
  inner: ToolContext | undefined,
): ToolContext | undefined {
  if (outer === undefined) return inner;
  if (inner === undefined) return outer;
  const merged: ToolContext = { ...outer, ...inner };
  if (outer.attributes !== undefined || inner.attributes !== undefined)
    merged.attributes = { ...outer.attributes, ...inner.attributes };
  return merged;
}
