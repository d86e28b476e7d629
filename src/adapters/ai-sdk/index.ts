/**
 * toolgate for the Vercel AI SDK (v7): `guardTools` wraps a tool set, `toolApproval` maps toolgate
 * decisions onto the SDK's approval statuses, and `aiSdkApprover` lets the guard accept approvals
 * given in the SDK's own approval flow. `ai` is imported as types only.
 */

export type { HostApproverOptions } from '../_shared/host-call.ts';
export { aiSdkApprover, type GuardedToolSet, type GuardToolsOptions, guardTools } from './guard-tools.ts';
export type { AiSdkCallInfo, AiSdkContextOption, AiSdkNameOption } from './shared.ts';
export {
  type AppToolApproval,
  type ToolApprovalInput,
  type ToolApprovalOptions,
  type ToolgateToolApproval,
  toolApproval,
} from './tool-approval.ts';
