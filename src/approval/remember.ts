import { parseDuration } from '../_internal/duration.ts';
import { identityKey } from '../_internal/names.ts';
import type { ToolRequest } from '../types.ts';
import type { GrantApproval } from './grant-types.ts';
import type { GrantManager } from './grants.ts';
import type { ApprovalResponse, RememberOptions } from './types.ts';

// An approver's `remember`: checked with the rest of the answer, and turned into a grant once the
// call is approved (src/approval/approval-flow.ts).

const REMEMBER_KEYS = new Set(['for', 'scope', 'maxUses']);
const SCOPE_KEYS = new Set(['agent', 'principal', 'intent', 'args', 'when']);

/** Why `remember` in an approved response is malformed, or undefined. */
export function rememberProblem(value: unknown): string | undefined {
  const remember = (value as { approved?: unknown; remember?: unknown }).remember;
  if ((value as { approved?: unknown }).approved !== true || remember === undefined) return undefined;
  const raw = remember as Record<string, unknown>;
  for (const key of Reflect.ownKeys(raw)) {
    if (typeof key !== 'string' || !REMEMBER_KEYS.has(key))
      return `remember has an unexpected field ${String(key)}`;
  }
  try {
    const ms = parseDuration(raw.for as number | string, 'remember.for');
    if (ms <= 0) return 'remember.for must be positive';
  } catch {
    return 'remember.for must be a duration';
  }
  if (raw.maxUses !== undefined && (!Number.isSafeInteger(raw.maxUses) || (raw.maxUses as number) < 1))
    return 'remember.maxUses must be a positive integer';
  if (raw.scope !== undefined) {
    if (typeof raw.scope !== 'object' || raw.scope === null || Array.isArray(raw.scope))
      return 'remember.scope must be an object';
    const scope = raw.scope as Record<string, unknown>;
    for (const key of Reflect.ownKeys(scope)) {
      if (typeof key !== 'string' || !SCOPE_KEYS.has(key))
        return `remember.scope has an unexpected field ${String(key)}`;
    }
    for (const key of ['agent', 'principal', 'intent', 'args'] as const) {
      if (scope[key] !== undefined && scope[key] !== 'same' && scope[key] !== 'any')
        return `remember.scope.${key} must be 'same' or 'any'`;
    }
    if (scope.when !== undefined && (typeof scope.when !== 'object' || scope.when === null))
      return 'remember.scope.when must be an object of conditions';
  }
  return undefined;
}

/**
 * The grant an approved answer with `remember` becomes: the same tool, for `remember.for` from the
 * request's time; the same agent and principal and the same args unless the scope says `any`, any
 * intent unless it says `same`; at most `maxUses` uses; and the scope's `when` conditions. It
 * carries `approval` (who approved, under which requirement): however wide the scope, the grant
 * answers only asks those approvers could approve afresh, and never a call no rule asks about.
 */
export function rememberedGrant(
  request: ToolRequest,
  response: Extract<ApprovalResponse, { approved: true }>,
  reason: string,
  approval: GrantApproval,
): { grant: Parameters<GrantManager['remember']>[0]; when: unknown } {
  const remember = response.remember as RememberOptions;
  const scope = (remember.scope ?? {}) as Record<string, unknown>;
  const same = (field: 'agent' | 'principal' | 'intent', byDefault: 'same' | 'any') => {
    const mode = (scope[field] as string | undefined) ?? byDefault;
    return mode === 'same' ? (request.context[field] ?? null) : undefined;
  };
  const grant: Parameters<GrantManager['remember']>[0] = {
    tool: request.tool.name,
    expiresAt: request.now + parseDuration(remember.for, 'remember.for'),
    issuedBy: identityKey(response.approver),
    reason: `remembered approval of ${response.approver} (${reason})`,
    approval,
  };
  for (const [field, byDefault] of [
    ['agent', 'same'],
    ['principal', 'same'],
    ['intent', 'any'],
  ] as const) {
    const value = same(field, byDefault);
    if (value !== undefined) grant[field] = value;
  }
  if ((scope.args ?? 'same') === 'same') grant.argsHash = request.argsHash;
  if (remember.maxUses !== undefined) grant.maxUses = remember.maxUses;
  return { grant, when: scope.when };
}
