import { parseDuration } from '../_internal/duration.ts';
import { type CompiledGlob, compileGlob } from '../_internal/glob.ts';
import { identityKey, identityProblem } from '../_internal/names.ts';
import type { ApprovalRequirements } from '../types.ts';

/** Approval requirements after validation. */
export interface NormalizedRequirements {
  readonly timeoutMs: number;
  readonly quorum: number;
  readonly approvers: readonly CompiledGlob[] | undefined;
  readonly separationOfDuties: boolean;
}

/** Largest quorum accepted; anything bigger is a policy mistake. */
const MAX_QUORUM = 100;

/**
 * Validates what an `ask` decision requires of its approval. Returns a problem string for a
 * malformed value (the caller denies with `POLICY_ERROR`): a requirement is never silently dropped.
 */
export function normalizeRequirements(
  value: ApprovalRequirements | undefined,
  defaultTimeoutMs: number,
): NormalizedRequirements | string {
  if (value === undefined) {
    return { timeoutMs: defaultTimeoutMs, quorum: 1, approvers: undefined, separationOfDuties: false };
  }
  if (typeof value !== 'object' || value === null) return 'approval requirements must be an object';
  const { timeout, quorum, approvers, separationOfDuties } = value as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (!['timeout', 'quorum', 'approvers', 'separationOfDuties'].includes(key))
      return `approval.${key} is not an approval requirement`;
  }
  let timeoutMs = defaultTimeoutMs;
  if (timeout !== undefined) {
    try {
      timeoutMs = parseDuration(timeout as number | string, 'approval.timeout');
    } catch {
      return 'approval.timeout must be a duration';
    }
  }
  if (quorum !== undefined && (!Number.isSafeInteger(quorum) || (quorum as number) < 1))
    return 'approval.quorum must be a positive integer';
  if ((quorum as number | undefined) !== undefined && (quorum as number) > MAX_QUORUM)
    return `approval.quorum must be at most ${MAX_QUORUM}`;
  let globs: CompiledGlob[] | undefined;
  if (approvers !== undefined) {
    const list = typeof approvers === 'string' ? [approvers] : approvers;
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      !list.every((item) => typeof item === 'string' && item.length > 0)
    )
      return 'approval.approvers must be a non-empty list of globs';
    for (const pattern of list as string[]) {
      const problem = identityProblem(pattern, `approval.approvers ${JSON.stringify(pattern)}`);
      if (problem !== undefined) return problem;
    }
    globs = (list as string[]).map((pattern) => compileGlob(pattern));
  }
  if (separationOfDuties !== undefined && typeof separationOfDuties !== 'boolean')
    return 'approval.separationOfDuties must be true or false';
  return {
    timeoutMs,
    quorum: (quorum as number | undefined) ?? 1,
    approvers: globs,
    separationOfDuties: separationOfDuties === true,
  };
}

/** Why `approver` may not approve under `requirements` (given the call's principal), or undefined. */
export function approverProblem(
  requirements: NormalizedRequirements,
  approver: string,
  principal: string | undefined,
): string | undefined {
  const invalid = identityProblem(approver, 'approver');
  if (invalid !== undefined) return invalid;
  const name = identityKey(approver);
  if (requirements.approvers !== undefined && !requirements.approvers.some((glob) => glob.test(name)))
    return `${approver} is not among the approvers of this call`;
  if (requirements.separationOfDuties && principal !== undefined && name === identityKey(principal))
    return 'the principal may not approve their own call';
  return undefined;
}
