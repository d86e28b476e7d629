import { identityKey, identityProblem } from '../_internal/names.ts';
import type { Decision, ToolRequest } from '../types.ts';
import type { GrantApproval } from './grant-types.ts';
import { approverProblem, type NormalizedRequirements, normalizeRequirements } from './requirements.ts';

// Guarantee G15, a grant never lowers the bar: what a grant carries about its approval, and
// whether that meets what a later call needs.

/** Where a grant comes from: host code (`tg.grants.issue`) or an approver's `remember`. */
export type GrantSource = 'host' | 'approval';

/** What a call needs of a grant: to turn a default deny into allow, or to answer an `ask`. */
export type GrantNeed =
  | { readonly kind: 'default-deny' }
  | {
      readonly kind: 'ask';
      readonly requirements: NormalizedRequirements;
      /** The principal of the call being decided (separation of duties is checked against it). */
      readonly principal: string | undefined;
    };

const DEFAULT_DENY: GrantNeed = Object.freeze({ kind: 'default-deny' });

/**
 * What a grantable decision needs of a grant, or undefined when no grant may answer it: an ask
 * whose requirements are malformed goes on to the approval step, which denies it (`POLICY_ERROR`).
 */
export function grantNeed(decision: Decision, request: ToolRequest): GrantNeed | undefined {
  if (decision.type !== 'ask') return DEFAULT_DENY;
  // The timeout does not matter here: a grant answers at once or not at all.
  const requirements = normalizeRequirements(decision.approval, 0);
  if (typeof requirements === 'string') return undefined;
  return { kind: 'ask', requirements, principal: request.context.principal };
}

/**
 * Whether a grant meets `need`; the bar is never lowered:
 * - a default deny (no rule matched) is turned into allow by host grants only: an approver answers
 *   asks, and nobody could have approved a call no rule asks about;
 * - an `ask` is answered by a remembered approval only if its approvers would meet the ask's own
 *   requirements as a fresh approval: enough distinct approvers, each matching the ask's approver
 *   globs and, under separation of duties, none of them the call's principal;
 * - an `ask` is answered by a grant that names no approvers (host grants, and remembered grants
 *   stored before grants carried their approval) only if it needs no more than one approval from
 *   anyone: quorum 1, no approver globs, no separation of duties.
 */
export function grantMeets(
  source: GrantSource,
  approval: GrantApproval | undefined,
  need: GrantNeed,
): boolean {
  if (need.kind === 'default-deny') return source === 'host';
  const requirements = need.requirements;
  if (approval === undefined) {
    return (
      requirements.quorum === 1 && requirements.approvers === undefined && !requirements.separationOfDuties
    );
  }
  const qualified = new Set<string>();
  for (const name of approval.approvedBy) {
    if (approverProblem(requirements, name, need.principal) === undefined) qualified.add(identityKey(name));
  }
  return qualified.size >= requirements.quorum;
}

/** What a grant remembers of an approval: the distinct approvers and the requirement they met. */
export function grantApprovalOf(
  approvedBy: readonly string[],
  requirements: NormalizedRequirements,
): GrantApproval {
  const approval: { -readonly [K in keyof GrantApproval]: GrantApproval[K] } = {
    approvedBy: Object.freeze([...new Set(approvedBy.map(identityKey))]),
    quorum: requirements.quorum,
    separationOfDuties: requirements.separationOfDuties,
  };
  if (requirements.approvers !== undefined)
    approval.approvers = Object.freeze(requirements.approvers.map((glob) => glob.source));
  return Object.freeze(approval);
}

/**
 * Reads a stored approval defensively: undefined when it is malformed (and so the record is not a
 * grant). Every approver must be a valid identity in NFC, listed once.
 */
export function parseGrantApproval(value: unknown): GrantApproval | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { approvedBy, quorum, approvers, separationOfDuties } = value as Record<string, unknown>;
  if (!Array.isArray(approvedBy) || approvedBy.length === 0) return undefined;
  const seen = new Set<string>();
  for (const name of approvedBy) {
    if (identityProblem(name) !== undefined || identityKey(name as string) !== name || seen.has(name))
      return undefined;
    seen.add(name);
  }
  if (!Number.isSafeInteger(quorum) || (quorum as number) < 1) return undefined;
  if (typeof separationOfDuties !== 'boolean') return undefined;
  const approval: { -readonly [K in keyof GrantApproval]: GrantApproval[K] } = {
    approvedBy: Object.freeze([...seen]),
    quorum: quorum as number,
    separationOfDuties,
  };
  if (approvers !== undefined) {
    if (!Array.isArray(approvers) || !approvers.every((glob) => identityProblem(glob) === undefined))
      return undefined;
    approval.approvers = Object.freeze([...(approvers as string[])]);
  }
  return Object.freeze(approval);
}
