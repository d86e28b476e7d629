import { ConfigurationError } from '../../errors.ts';
import type { JsonObject } from '../../types.ts';
import type { HostApproval } from './host-call.ts';

/**
 * A person's answer to an approval request raised in a framework's own approval flow, given to the
 * adapter's `respondToApproval` helper so that toolgate records it with who answered.
 */
export interface ApprovalAnswer {
  /** `true` approves the call, `false` rejects it. */
  readonly approved: boolean;
  /** Who answered, as your app knows them (e.g. `'user:ops-alice'`); recorded and checked against `approval.approvers`. */
  readonly approver: string;
  /** Why (for a rejection, the model reads it in the denial). */
  readonly reason?: string;
}

/** Checks an answer given to a `respondToApproval` helper; a malformed one is a host bug and throws. */
export function hostAnswer(answer: ApprovalAnswer, where: string, args?: JsonObject): HostApproval {
  if (typeof answer !== 'object' || answer === null)
    throw new ConfigurationError(`${where}: the answer must be an object { approved, approver, reason? }`);
  if (typeof answer.approved !== 'boolean')
    throw new ConfigurationError(`${where}: answer.approved must be true or false`);
  if (typeof answer.approver !== 'string' || answer.approver.trim() === '')
    throw new ConfigurationError(`${where}: answer.approver must name who answered`);
  if (answer.reason !== undefined && typeof answer.reason !== 'string')
    throw new ConfigurationError(`${where}: answer.reason must be a string`);
  const result: { -readonly [K in keyof HostApproval]: HostApproval[K] } = {
    approved: answer.approved,
    approver: answer.approver,
  };
  if (answer.reason !== undefined) result.reason = answer.reason;
  if (args !== undefined) result.args = args;
  return result;
}
