import { compileGlob } from '../_internal/glob.ts';
import type { ApprovalRequirements, Obligations } from '../types.ts';

/** Merges obligations strictest-wins: the minimum of each number, the union of `redact`. */
export function mergeObligations(
  a: Obligations | undefined,
  b: Obligations | undefined,
): Obligations | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const out: { -readonly [K in keyof Obligations]: Obligations[K] } = {};
  const maxRows = minOf(a.maxRows, b.maxRows);
  if (maxRows !== undefined) out.maxRows = maxRows;
  const maxBytes = minOf(a.maxBytes, b.maxBytes);
  if (maxBytes !== undefined) out.maxBytes = maxBytes;
  const timeout = minOf(a.timeout, b.timeout);
  if (timeout !== undefined) out.timeout = timeout;
  if (a.redact !== undefined || b.redact !== undefined) {
    out.redact = Object.freeze([...new Set([...(a.redact ?? []), ...(b.redact ?? [])])].sort());
  }
  return Object.freeze(out);
}

/**
 * Merges approval requirements of several `ask` rules strictest-wins: the shortest timeout, the
 * largest quorum, separation of duties if any rule asks for it, and only approvers every rule
 * accepts (a pattern is kept when each other list has the same pattern, or a glob matching it as a
 * literal name). An empty approver list means nobody may approve, which denies.
 */
export function mergeApproval(
  a: ApprovalRequirements | undefined,
  b: ApprovalRequirements | undefined,
): ApprovalRequirements | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const out: { -readonly [K in keyof ApprovalRequirements]: ApprovalRequirements[K] } = {};
  const timeout = minOf(a.timeout, b.timeout);
  if (timeout !== undefined) out.timeout = timeout;
  const quorum = maxOf(a.quorum, b.quorum);
  if (quorum !== undefined) out.quorum = quorum;
  if (a.separationOfDuties === true || b.separationOfDuties === true) out.separationOfDuties = true;
  if (a.approvers === undefined) {
    if (b.approvers !== undefined) out.approvers = b.approvers;
  } else if (b.approvers === undefined) {
    out.approvers = a.approvers;
  } else {
    const left = a.approvers;
    const right = b.approvers;
    const keep = new Set<string>();
    for (const pattern of left) if (accepts(right, pattern)) keep.add(pattern);
    for (const pattern of right) if (accepts(left, pattern)) keep.add(pattern);
    out.approvers = Object.freeze([...keep].sort());
  }
  return Object.freeze(out);
}

function accepts(list: readonly string[], pattern: string): boolean {
  if (list.includes(pattern)) return true;
  if (pattern.includes('*')) return false;
  return list.some((other) => compileGlob(other).test(pattern));
}

function minOf(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

function maxOf(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}
