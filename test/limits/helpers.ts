import { memoryAudit } from '../../src/audit/memory.ts';
import { createGuard } from '../../src/guard.ts';
import type { GuardOptions } from '../../src/guard-types.ts';
import type { PolicyEngine } from '../../src/policy/types.ts';
import { memoryStore } from '../../src/store/memory.ts';
import type { StateStore } from '../../src/store/types.ts';
import { fakeClock } from '../../src/testing/fakes.ts';
import type { Decision, RuleLimits, ToolRequest } from '../../src/types.ts';

/** A policy engine that allows (or asks) every call, with the given limits: the public contract. */
export function limitedPolicy(
  limits: RuleLimits | ((request: ToolRequest) => RuleLimits),
  extra: { type?: 'allow' | 'ask'; rule?: string; obligations?: Record<string, unknown> } = {},
): PolicyEngine {
  const rule = extra.rule ?? 'limited';
  return {
    name: 'limited',
    evaluate(request) {
      const resolved = typeof limits === 'function' ? limits(request) : limits;
      const base = { rules: [rule], limits: [{ rule, limits: resolved }] };
      const decision =
        extra.type === 'ask'
          ? { type: 'ask' as const, reason: 'needs approval', ...base }
          : { type: 'allow' as const, ...base };
      if (extra.obligations !== undefined) Object.assign(decision, { obligations: extra.obligations });
      return decision as Decision;
    },
  };
}

/** A guard on a fake clock with a memory audit; `onDeny: 'return'` so denials are values. */
export function limitedGuard(policy: PolicyEngine, options: Partial<GuardOptions<'return'>> = {}) {
  const clock = fakeClock();
  const audit = memoryAudit();
  const store: StateStore = options.store ?? memoryStore();
  const tg = createGuard({ policy, audit, now: clock.now, onDeny: 'return', ...options, store });
  return { tg, clock, audit, store };
}

/** A promise with its resolve/reject handles. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export function codeOf(result: unknown): string | undefined {
  return typeof result === 'object' && result !== null && (result as { denied?: boolean }).denied === true
    ? (result as { code: string }).code
    : undefined;
}
