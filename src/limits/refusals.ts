import ms from 'ms';
import { deny, withFailed } from '../policy/evaluate.ts';
import type { AdmitRequest, AdmitResult } from '../store/types.ts';
import type { DenyCode, DenyDecision, FailedCondition } from '../types.ts';

// How the limits step's refusals read (src/limits/admission.ts): the code and reason, the rule
// whose limit was hit, and that limit as a failed condition (docs/policies.md).

/** A budget amount that is not a finite, non-negative number (thrown while the admit is built). */
export class BudgetAmountError extends Error {
  constructor(
    readonly rule: string,
    readonly what: string,
    message: string,
  ) {
    super(message);
  }
}

/** The denial of a budget whose amount could not be read. */
export function budgetAmountDenial(error: BudgetAmountError): DenyDecision {
  // The amount is read from the args or context (`sum`), or computed (`the cost function`).
  const read = error.what.startsWith('args.') || error.what.startsWith('context.');
  return withFailed(limitDeny('BUDGET_EXCEEDED', error.message, [error.rule]), [
    {
      rule: error.rule,
      path: read ? error.what : 'limit.budget',
      expected: 'a finite, non-negative number',
      problem: read
        ? 'is not a finite, non-negative number, so the budget cannot be applied'
        : `got an amount from ${error.what} that is not a finite, non-negative number`,
    },
  ]);
}

/** The denial of a refused admit (not an identity suspension): its code, rule and limit. */
export function refusedByStore(
  admit: AdmitRequest,
  result: Extract<AdmitResult, { ok: false }>,
): DenyDecision {
  const rule = ownerOf(admit, result.key);
  return withFailed(denial(result, rule), limitFailed(admit, result.key, rule));
}

/**
 * The rule a denied key belongs to, read back from the key itself (`rate:[rule, fields, values]`,
 * see keysOf); `undefined` for loop protection and for a key the request did not carry.
 */
function ownerOf(admit: AdmitRequest, key: unknown): string | undefined {
  const checks = [...(admit.rates ?? []), ...(admit.semaphores ?? []), ...(admit.budgets ?? [])];
  if (typeof key !== 'string' || !checks.some((check) => check.key === key)) return undefined;
  if (key.startsWith('session-calls:')) return undefined;
  try {
    const parts = JSON.parse(key.slice(key.indexOf(':') + 1)) as unknown;
    return Array.isArray(parts) && typeof parts[0] === 'string' ? parts[0] : undefined;
  } catch {
    return undefined;
  }
}

function denial(result: Extract<AdmitResult, { ok: false }>, rule: string | undefined): DenyDecision {
  const rules = rule === undefined ? [] : [rule];
  const retry =
    typeof result.retryAfterMs === 'number' && result.retryAfterMs > 0 ? result.retryAfterMs : undefined;
  switch (result.kind) {
    case 'suspended':
      return limitDeny('SUSPENDED', `suspended: ${result.key}`, []);
    case 'rate':
      return rule === undefined
        ? limitDeny('RATE_LIMITED', 'the session has made too many calls (loop protection)', rules, retry)
        : limitDeny('RATE_LIMITED', `rate limit of rule ${rule} reached`, rules, retry);
    case 'concurrency':
      return limitDeny('CONCURRENCY_LIMITED', `concurrency limit of rule ${rule ?? '?'} reached`, rules);
    case 'budget':
      return limitDeny('BUDGET_EXCEEDED', `budget of rule ${rule ?? '?'} would be exceeded`, rules, retry);
    default:
      return limitDeny('STORE_UNAVAILABLE', 'the state store gave a malformed answer', []);
  }
}

/**
 * The limit a denial hit, as a failed condition: `limit.rate`, `limit.concurrency` or
 * `limit.budget` of its rule (`context.session` for loop protection), what it allows, and what
 * this call ran into. Read from the checks sent to the store, so it names the limit as applied.
 */
function limitFailed(admit: AdmitRequest, key: unknown, rule: string | undefined): FailedCondition[] {
  const owner = rule === undefined ? {} : { rule };
  const rate = admit.rates?.find((check) => check.key === key);
  if (rate !== undefined) {
    const calls = `at most ${rate.limit} call${rate.limit === 1 ? '' : 's'} in ${ms(rate.windowMs, { long: true })}`;
    // A rate without a rule is loop protection: the session's own call counter.
    return rule === undefined
      ? [{ path: 'context.session', expected: calls, problem: 'made more calls (loop protection)' }]
      : [{ rule, path: 'limit.rate', expected: calls, problem: 'is used up' }];
  }
  const slots = admit.semaphores?.find((check) => check.key === key);
  if (slots !== undefined)
    return [
      { ...owner, path: 'limit.concurrency', expected: `at most ${slots.limit} at once`, problem: 'is full' },
    ];
  const budget = admit.budgets?.find((check) => check.key === key);
  if (budget !== undefined)
    return [
      {
        ...owner,
        path: 'limit.budget',
        expected: `at most ${budget.max} in ${ms(budget.windowMs, { long: true })}`,
        actual: budget.amount,
        problem: `would be exceeded by this call's ${budget.amount}`,
      },
    ];
  return [];
}

export function limitDeny(
  code: DenyCode,
  reason: string,
  rules: readonly string[],
  retryAfterMs?: number,
): DenyDecision {
  const decision = deny(code, reason, rules);
  return retryAfterMs === undefined
    ? decision
    : Object.freeze({ ...decision, retryAfterMs: Math.ceil(retryAfterMs) });
}
