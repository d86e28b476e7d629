import { compileWhen } from '../policy/conditions.ts';
import type { StateStore } from '../store/types.ts';
import type { FloodLimits } from './flood.ts';
import { GrantManager } from './grants.ts';
import type { ShowArgs } from './shown-args.ts';
import { ApprovalStep } from './step.ts';
import type { ApprovalProvider } from './types.ts';

/** Default flood control: pending approval requests per principal, and requests per minute. */
export const DEFAULT_APPROVAL_FLOOD: FloodLimits = Object.freeze({ maxPending: 20, perMinute: 60 });

/** What the pipeline needs to build its approval and grant steps. */
export interface ApprovalServicesConfig {
  readonly approver: ApprovalProvider | undefined;
  readonly store: StateStore;
  readonly now: () => number;
  readonly generateId: () => string;
  readonly emitError: (source: string, error: unknown, callId?: string) => void;
  readonly approvalTimeoutMs: number;
  /** How long a grant lookup in the store may take. */
  readonly storeTimeoutMs: number;
  readonly flood?: FloodLimits | undefined;
  readonly showArgs?: ShowArgs | undefined;
}

/** The approval step and the grant manager of one guard. */
export interface ApprovalServices {
  readonly approvals: ApprovalStep;
  readonly grants: GrantManager;
}

/** Builds the approval step and grant manager; the pipeline calls them with a few lines each. */
export function createApprovalServices(config: ApprovalServicesConfig): ApprovalServices {
  const grants = new GrantManager({
    store: config.store,
    now: config.now,
    generateId: config.generateId,
    storeTimeoutMs: config.storeTimeoutMs,
    compileWhen,
  });
  const options: ConstructorParameters<typeof ApprovalStep>[0] = {
    approver: config.approver,
    now: config.now,
    generateId: config.generateId,
    defaultTimeoutMs: config.approvalTimeoutMs,
    flood: config.flood ?? DEFAULT_APPROVAL_FLOOD,
    grants,
    onError: config.emitError,
    ...(config.showArgs === undefined ? {} : { showArgs: config.showArgs }),
  };
  return { approvals: new ApprovalStep(options), grants };
}
