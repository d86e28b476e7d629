/**
 * toolgate for the OpenAI Agents SDK (`@openai/agents`, imported as types only): `guardTool` wraps a
 * function tool's `invoke`, the single point the runner calls, and can route toolgate's `ask` to
 * the SDK's own approval interruptions, answered with `respondToApproval` and accepted by
 * `agentsApprover`.
 */

export type { ApprovalAnswer } from '../_shared/answers.ts';
export type { HostApproverOptions } from '../_shared/host-approver.ts';
export type { DeprecatedOnDeny, OnDenyOption } from '../_shared/on-deny.ts';
export { type AgentsApprovalAnswer, respondToApproval } from './answers.ts';
export { agentsApprover } from './approver.ts';
export { type AgentsContextOf, type GuardToolOptions, guardTool, guardTools } from './guard-tool.ts';
