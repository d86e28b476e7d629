/**
 * toolgate for the Vercel AI SDK (v7): `guardTools` wraps a tool set, `toolApproval` maps toolgate
 * decisions onto the SDK's approval statuses, `respondToApproval` records a person's answer and
 * builds the SDK's approval response, and `aiSdkApprover` lets the guard accept answers given in
 * the SDK's own approval flow. `ai` is imported as types only.
 */

export type { ApprovalAnswer } from '../_shared/answers.ts';
export type { HostApproverOptions } from '../_shared/host-approver.ts';
export type { DeprecatedOnDeny, OnDenyOption } from '../_shared/on-deny.ts';
export {
  type AiSdkApprovalRequest,
  type RespondOptions,
  recordApprovalResponses,
  respondToApproval,
} from './answers.ts';
export { aiSdkApprover } from './approver.ts';
export { guardTools } from './guard-tools.ts';
export {
  type AppToolApproval,
  type ToolApprovalInput,
  type ToolApprovalOptions,
  type ToolgateToolApproval,
  toolApproval,
} from './tool-approval.ts';
export type {
  AiSdkCallInfo,
  AiSdkCallInfoOf,
  AiSdkContextOption,
  AiSdkNameOption,
  GuardedAiSdkTool,
  GuardedToolSet,
  GuardToolsOptions,
  ToolContextOf,
} from './types.ts';
