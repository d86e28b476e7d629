import { newId } from '../_internal/ids.ts';
import type { Grant } from '../approval/grant-types.ts';
import { GrantManager } from '../approval/grants.ts';
import type { Guard, OnDeny } from '../guard-types.ts';
import {
  type ActiveSuspension,
  listSuspensions,
  resume,
  type SuspendOptions,
  type SuspendTarget,
  suspend,
} from '../limits/suspend.ts';
import { rulesOf } from '../policy/rules.ts';
import type { StateStore } from '../store/types.ts';
import type { ReadEvent } from './audit-reader.ts';
import { HttpError } from './http.ts';

const FIELDS = ['tool', 'agent', 'principal', 'session'] as const;
const MAX_VALUE = 500;

/** Grants and suspensions in the store, through the guard when the console has one. */
export class Control {
  private readonly grants: GrantManager;

  constructor(
    private readonly store: StateStore,
    private readonly guard: Guard<OnDeny> | undefined,
    private readonly now: () => number,
  ) {
    this.grants = new GrantManager({ store, now, generateId: newId, storeTimeoutMs: 5_000 });
  }

  listGrants(): Promise<Grant[]> {
    return (this.guard?.grants ?? this.grants).list();
  }

  revokeGrant(id: string): Promise<boolean> {
    if (!/^[\w-]{1,200}$/.test(id)) throw new HttpError(400, 'not a grant id');
    return (this.guard?.grants ?? this.grants).revoke(id);
  }

  suspensions(): Promise<ActiveSuspension[]> {
    return this.guard?.suspensions() ?? listSuspensions(this.store, this.now());
  }

  /** Suspends a target; through the guard, the suspension is also on the guard's audit trail. */
  suspend(body: Record<string, unknown>): Promise<ActiveSuspension> {
    const options = suspendBody(body, true) as SuspendOptions;
    return this.guard === undefined ? suspend(this.store, options, this.now()) : this.guard.suspend(options);
  }

  resume(body: Record<string, unknown>): Promise<boolean> {
    const target = suspendBody(body, false) as SuspendTarget;
    return this.guard === undefined ? resume(this.store, target, this.now()) : this.guard.resume(target);
  }
}

/** `{ field, value, reason?, for? }` from the page, checked (400). */
function suspendBody(body: Record<string, unknown>, withOptions: boolean): Record<string, unknown> {
  const allowed = withOptions ? ['field', 'value', 'reason', 'for'] : ['field', 'value'];
  for (const key of Object.keys(body))
    if (!allowed.includes(key)) throw new HttpError(400, `unexpected field ${key}`);
  const { field, value, reason } = body;
  if (!FIELDS.includes(field as (typeof FIELDS)[number]))
    throw new HttpError(400, 'field must be tool, agent, principal or session');
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_VALUE)
    throw new HttpError(400, 'value must be a non-empty string');
  const options: Record<string, unknown> = { [field as string]: value };
  if (reason !== undefined) {
    if (typeof reason !== 'string' || reason.length > 1000)
      throw new HttpError(400, 'reason must be a short string');
    if (reason !== '') options.reason = reason;
  }
  if (body.for !== undefined && body.for !== '') {
    if (typeof body.for !== 'string' || !/^\d+(m|h|d)$/.test(body.for))
      throw new HttpError(400, "for must be a duration such as '30m', '2h' or '1d'");
    options.for = body.for;
  }
  return options;
}

/** The loaded policy and its coverage in the audit trail (rules engines show their rules). */
export function policyView(
  guard: Guard<OnDeny> | undefined,
  events: readonly ReadEvent[],
): Record<string, unknown> {
  if (guard === undefined) return { available: false as const };
  const engine = guard.policy;
  const compiled = rulesOf(engine);
  const decisions = events.filter((e) => e.event.type === 'decision');
  const hits = new Map<string, { allow: number; deny: number; ask: number }>();
  const gaps = new Map<string, number>();
  for (const { event } of decisions) {
    for (const rule of Array.isArray(event.rules) ? (event.rules as string[]) : []) {
      const entry = hits.get(rule) ?? { allow: 0, deny: 0, ask: 0 };
      const key = event.policyDecision === 'ask' ? 'ask' : event.decision === 'deny' ? 'deny' : 'allow';
      entry[key] += 1;
      hits.set(rule, entry);
    }
    if (event.code === 'NO_MATCHING_RULE') {
      const tool = String(event.tool ?? '');
      gaps.set(tool, (gaps.get(tool) ?? 0) + 1);
    }
  }
  const version = (engine as { version?: unknown }).version;
  return {
    available: true as const,
    engine: engine.name,
    ...(typeof version === 'string' ? { version } : {}),
    decisions: decisions.length,
    rules:
      compiled?.map((rule) => ({
        id: rule.id,
        effect: rule.effect,
        reason: rule.reason,
        spec: rule.spec,
        hits: hits.get(rule.id) ?? { allow: 0, deny: 0, ask: 0 },
      })) ?? [],
    /** Tools called with no rule matching (the default-deny gap), with how often. */
    uncovered: [...gaps.entries()]
      .map(([tool, count]) => ({ tool, count }))
      .sort((a, b) => b.count - a.count),
  };
}
