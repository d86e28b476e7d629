/**
 * toolgate for the OpenAI Agents SDK (`@openai/agents`): `guardTool` wraps a function tool's
 * `invoke`, the single point the runner calls, and can route toolgate's `ask` to the SDK's own
 * approval interruptions, answered with `respondToApproval` and accepted by `agentsApprover`.
 * `guardedTool` builds the tool with the SDK's `tool()` and guards it, so that a failing `execute`
 * is recorded as an error (the only value this module imports from the SDK).
 */

export type { ApprovalAnswer } from '../_shared/answers.ts';
export type { HostApproverOptions } from '../_shared/host-approver.ts';
export type { DeprecatedOnDeny, OnDenyOption } from '../_shared/on-deny.ts';
export { type AgentsApprovalAnswer, respondToApproval } from './answers.ts';
export { agentsApprover } from './approver.ts';
export { type AgentsContextOf, type GuardToolOptions, guardTool, guardTools } from './guard-tool.ts';
export { guardedTool } from './guarded-tool.ts';
