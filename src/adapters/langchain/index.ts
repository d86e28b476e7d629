/**
 * toolgate for LangChain.js v1: `guardTool` / `guardTools` return guarded LangChain tools, and
 * `toolgateMiddleware` guards every tool call of a `createAgent` agent. `@langchain/core` is imported
 * at runtime (to build tools and `ToolMessage`s); `langchain` as types only.
 */

export type { HostApproverOptions } from '../_shared/host-call.ts';
export { type GuardToolOptions, guardTool, guardTools } from './guard-tool.ts';
export { langchainApprover, type ToolgateMiddlewareOptions, toolgateMiddleware } from './middleware.ts';
