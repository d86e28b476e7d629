/**
 * toolgate for LangChain.js v1: `guardTool` / `guardTools` return guarded LangChain tools,
 * `toolgateMiddleware` guards every tool call of a `createAgent` agent, and `respondToApproval`
 * builds the resume value for toolgate's interrupt from a person's answer. `@langchain/core` is
 * imported at runtime (to build tools and `ToolMessage`s); `langchain` as types only.
 */

export type { ApprovalAnswer } from '../_shared/answers.ts';
export type { HostApproverOptions } from '../_shared/host-approver.ts';
export type { DeprecatedOnDeny, OnDenyOption } from '../_shared/on-deny.ts';
export {
  type LangChainApprovalAnswer,
  respondToApproval,
  type ToolgateDecision,
  type ToolgateInterruptInfo,
  type ToolgateResume,
} from './answers.ts';
export { type GuardToolOptions, guardTool, guardTools } from './guard-tool.ts';
export { langchainApprover, type ToolgateMiddlewareOptions, toolgateMiddleware } from './middleware.ts';
