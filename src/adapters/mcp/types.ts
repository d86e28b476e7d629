import type { JsonObject, JsonValue } from '../../types.ts';

/** A JSON-RPC 2.0 request or notification id. */
export type JsonRpcId = string | number;

/** A JSON-RPC 2.0 message as it travels on an MCP transport (structural, SDK-independent). */
export interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: JsonRpcId;
  method?: string;
  params?: JsonObject;
  result?: JsonValue;
  error?: { code: number; message: string; data?: JsonValue };
}

/** A tool definition as listed by an MCP server (`tools/list`). Every field is server-supplied, so untrusted. */
export interface McpTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: JsonObject;
  outputSchema?: JsonObject;
  /** Hints such as `readOnlyHint`: shown to the model, never used for decisions. */
  annotations?: JsonObject;
  execution?: JsonObject;
  _meta?: JsonObject;
  [key: string]: unknown;
}

/** An MCP `CallToolResult`. */
export interface McpCallToolResult {
  content: { type: string; text?: string; [key: string]: unknown }[];
  structuredContent?: JsonObject;
  isError?: boolean;
  _meta?: JsonObject;
  [key: string]: unknown;
}

/**
 * The transport shape of the MCP TypeScript SDK (v1 `Transport`, also used by v2): what
 * `guardMcpServer` wraps. Declared structurally so the SDK stays an optional peer.
 */
export interface McpTransport {
  start(): Promise<void>;
  send(message: JsonRpcMessage, options?: unknown): Promise<void>;
  close(): Promise<void>;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JsonRpcMessage, extra?: McpMessageExtra) => void) | undefined;
  sessionId?: string | undefined;
  setProtocolVersion?: ((version: string) => void) | undefined;
}

/** What a transport passes along with a message (`MessageExtraInfo` in the SDK). */
export interface McpMessageExtra {
  authInfo?: unknown;
  requestInfo?: unknown;
  [key: string]: unknown;
}
