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
      /** The agent of the call being decided (an approver's own calls are checked against it too). */
      readonly agent: string | undefined;
    };

/** What `grantMeets` reads of a grant: where it comes from, its approval, and whose calls it is kept to. */
export interface GrantProvenance {
  readonly source: GrantSource;
  readonly approval?: GrantApproval | undefined;
  /** The exact principal (or agent) a remembered grant is kept to, `null` for "none"; absent: any. */
  readonly principal?: string | null | undefined;
  readonly agent?: string | null | undefined;
  /** For a remembered grant, the approver who remembered it. */
  readonly issuedBy: string;
}

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
  return { kind: 'ask', requirements, principal: request.context.principal, agent: request.context.agent };
}

/**
 * Whether a grant meets `need`; the bar is never lowered:
 * - a default deny (no rule matched) is turned into allow by host grants only: an approver answers
 *   asks, and nobody could have approved a call no rule asks about;
 * - an `ask` is answered by a remembered approval only if its approvers would meet the ask's own
 *   requirements as a fresh approval: enough distinct approvers, each matching the ask's approver
 *   globs and, under separation of duties, none of them the call's principal;
 * - an approver of a remembered grant never counts for a call of their own (they are its principal
 *   or agent) unless the grant is kept to exactly that principal or agent, i.e. they approved a call
 *   of their own: approving someone else's call never lets the approver run theirs on the grant
 *   (and the console, where nobody answers their own call, so never);
 * - an `ask` is answered by a grant that names no approvers (host grants, and remembered grants
 *   stored before grants carried their approval) only if it needs no more than one approval from
 *   anyone: quorum 1, no approver globs, no separation of duties.
 */
export function grantMeets(grant: GrantProvenance, need: GrantNeed): boolean {
  if (need.kind === 'default-deny') return grant.source === 'host';
  const requirements = need.requirements;
  const approval = grant.approval;
  if (approval === undefined) {
    // A remembered grant stored before grants carried their approval still names who remembered it.
    if (grant.source === 'approval' && ownCall(grant, identityKey(grant.issuedBy), need)) return false;
    return (
      requirements.quorum === 1 && requirements.approvers === undefined && !requirements.separationOfDuties
    );
  }
  const qualified = new Set<string>();
  for (const name of approval.approvedBy) {
    const key = identityKey(name);
    if (ownCall(grant, key, need)) continue;
    if (approverProblem(requirements, name, need.principal) === undefined) qualified.add(key);
  }
  return qualified.size >= requirements.quorum;
}

/** Whether `approver` is the principal or agent of the call `need` is for, and the grant is not kept to them. */
function ownCall(
  grant: GrantProvenance,
  approver: string,
  need: Extract<GrantNeed, { kind: 'ask' }>,
): boolean {
  const asPrincipal = need.principal !== undefined && identityKey(need.principal) === approver;
  if (asPrincipal && grant.principal !== approver) return true;
  const asAgent = need.agent !== undefined && identityKey(need.agent) === approver;
  return asAgent && grant.agent !== approver;
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
