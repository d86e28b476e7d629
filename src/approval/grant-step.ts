import { deny } from '../policy/evaluate.ts';
import type { Decision, ToolRequest } from '../types.ts';
import type { Grant, GrantManager } from './grants.ts';
import { allowFrom } from './step.ts';

/** Only a default deny (no rule matched) or an `ask` can be turned into allow by a grant. */
export function grantable(decision: Decision): boolean {
  return decision.type === 'ask' || (decision.type === 'deny' && decision.code === 'NO_MATCHING_RULE');
}

/**
 * The grant step (after decide): a live grant in scope turns a default deny or an `ask` into
 * allow, keeping the ask's obligations and limits; a deny rule is never looked at. One use is
 * counted unless `peek` (`tg.check()`). A store failure denies with `STORE_UNAVAILABLE`.
 */
export async function applyGrants(
  grants: GrantManager,
  request: ToolRequest,
  decision: Decision,
  peek: boolean,
): Promise<{ decision: Decision; grant?: Grant }> {
  if (!grantable(decision)) return { decision };
  const found = await grants.find(request, peek);
  if (!found.ok) {
    return {
      decision: deny(
        'STORE_UNAVAILABLE',
        `grants could not be checked: ${found.problem}`,
        decision.rules,
        decision.policyVersion,
      ),
    };
  }
  const grant = found.grant;
  if (grant === undefined) return { decision };
  const reason = `granted by ${grant.id}${grant.reason === undefined ? '' : ` (${grant.reason})`}`;
  if (decision.type === 'deny') {
    const allow: Decision =
      decision.policyVersion === undefined
        ? { type: 'allow', rules: decision.rules, reason }
        : { type: 'allow', rules: decision.rules, reason, policyVersion: decision.policyVersion };
    return { decision: Object.freeze(allow), grant };
  }
  if (decision.type === 'allow') return { decision };
  return { decision: allowFrom(decision, reason), grant };
}
