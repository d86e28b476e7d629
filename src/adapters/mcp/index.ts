/**
 * toolgate for MCP: `guardMcpServer` (or `guardTransport`) guards the tools an MCP server serves,
 * `guardMcpClient` the tools an MCP client calls, `runMcpProxy` guards a server over stdio (the
 * `toolgate mcp-proxy` command). Tool definitions are pinned (`filePins`, `memoryPins`, `toolPin`)
 * so a definition that changes is denied until re-approved; `elicitationApprover` asks the human
 * through the client's elicitation.
 */

export {
  type GuardedMcpClient,
  type GuardMcpClientOptions,
  guardMcpClient,
  type McpCallToolOptions,
  type McpCallToolParams,
  type McpClientLike,
} from './client.ts';
export { elicitationApprover } from './elicitation.ts';
export type { PinMismatch, PinningOptions } from './gate.ts';
export {
  type HttpAuthentication,
  type HttpCaller,
  type McpHttpProxy,
  type McpHttpProxyOptions,
  serveMcpProxyHttp,
} from './http-listener.ts';
export { filePins, memoryPins, type PinFile, type PinStore, toolPin } from './pins.ts';
export { type McpProxyHandle, type McpProxyOptions, runMcpProxy } from './proxy.ts';
export {
  type GuardMcpServerOptions,
  guardMcpServer,
  guardTransport,
  MCP_DENIED_ERROR,
  type McpCallInfo,
  type McpServerLike,
} from './server.ts';
export type { McpCallToolResult, McpTool, McpTransport } from './types.ts';
