export {
  type GuardedMcpClient,
  type GuardMcpClientOptions,
  guardMcpClient,
  type McpCallToolOptions,
  type McpCallToolParams,
  type McpClientLike,
} from './client.ts';
export { elicitationApprover } from './elicitation.ts';
export {
  type GateOutcome,
  McpGate,
  type McpGateOptions,
  type PinMismatch,
  type PinningOptions,
} from './gate.ts';
export { mcpInputSchema } from './input-schema.ts';
export { filePins, memoryPins, type PinFile, type PinStore, toolPin } from './pins.ts';
export { type McpProxyHandle, type McpProxyOptions, runMcpProxy } from './proxy.ts';
export {
  type GuardMcpServerOptions,
  guardMcpServer,
  guardTransport,
  type McpCallInfo,
  type McpServerLike,
} from './server.ts';
export type {
  JsonRpcId,
  JsonRpcMessage,
  McpCallToolResult,
  McpMessageExtra,
  McpTool,
  McpTransport,
} from './types.ts';
