import { describeError } from '../_internal/describe-error.ts';
import { CallFailure, callSafely, callSync, dropPromise, type SafeResult } from '../_internal/fail-closed.ts';
import { deny } from '../policy/evaluate.ts';
import type {
  AdmitRequest,
  AdmitResult,
  BudgetCheck,
  RateCheck,
  SemaphoreCheck,
  StateStore,
  SyncAdmission,
} from '../store/types.ts';
import type { Decision, DenyCode, DenyDecision, ToolRequest } from '../types.ts';
import { cachedSuspensionKey, keysOf, parsedLimits, SUSPENSION_FIELDS } from './keys.ts';
import { HeldLease, type LimitLease, leaseOf } from './lease.ts';

export { LEASE_GRACE_MS } from './lease.ts';

import type { ParsedLimits } from './parse.ts';
import { BudgetAmountError, budgetAmountDenial, limitDeny, refusedByStore } from './refusals.ts';

/** Window of the per-session call counter (loop protection). */
export const SESSION_WINDOW_MS: number = 24 * 60 * 60 * 1000;

/** Settings of the limits step, fixed at `createGuard`. */
export interface LimitsSettings {
  readonly store: StateStore;
  /** The store's synchronous admission, if it has one (asked for once, at `createGuard`). */
  readonly syncAdmission: SyncAdmission | undefined;
  /** How long one store operation may take before the call is denied. */
  readonly storeTimeoutMs: number;
  /** Maximum guarded calls per session in 24 hours (loop protection); absent: unlimited. */
  readonly maxSessionCalls: number | undefined;
  /** Reports a failure that cannot deny anything any more (a settle after the call). */
  readonly onError: (source: string, error: unknown, callId?: string) => void;
  /** The guard's call timeout and approval timeout, ms: how long a slot may be held. */
  readonly timeoutMs: number;
  readonly approvalTimeoutMs: number;
  /**
   * The deny for a suspension entry that is not a kill switch of `tg.suspend()` (an identity
   * revocation: `CREDENTIAL_REVOKED`, `AGENT_SUSPENDED`), or undefined for a plain `SUSPENDED`.
   */
  readonly suspensionDenial?:
    | ((key: string) => { readonly code: DenyCode; readonly reason: string } | undefined)
    | undefined;
}

export type { LimitLease } from './lease.ts';

/** The call being admitted, beyond its request (the pipeline's `Call` is one). */
export interface AdmittedCall {
  /** Consume nothing (`tg.check()`). */
  readonly peek: boolean;
  /**
   * How many times the call was admitted before: 0 for its first admission (the store has never
   * seen this holder); an approver's edit admits it again.
   */
  readonly admissions: number;
  readonly signal: AbortSignal | undefined;
  /** What the store knows the call by (its id, unless the host's ids may repeat). */
  readonly holder: string;
  /** More suspension entries that refuse the call (a verified credential's revocation entries). */
  readonly revocationKeys?: readonly string[] | undefined;
}

type Admitted = DenyDecision | LimitLease | undefined;

const NO_SUSPENSIONS: readonly string[] = Object.freeze([]);

/**
 * The limits of one call: suspensions, rate, concurrency and budget for an allow or ask decision,
 * checked and taken atomically in one store operation. Returns a deny, a lease to release when
 * the call settles, or `undefined` when nothing is held. Synchronous when the store is.
 */
export function admitCall(
  settings: LimitsSettings,
  request: ToolRequest,
  decision: Exclude<Decision, { type: 'deny' }>,
  call: AdmittedCall,
  clock?: () => number,
): Admitted | Promise<Admitted> {
  // A store with a synchronous admission (the memory store) knows, at once and in this process,
  // whether anything is suspended at all. When nothing is, the suspension check cannot deny and is
  // left out, and a call without limits needs no store operation at all (docs/performance.md,
  // "The guarded call"). Anything but a plain `true` means: ask the store.
  const sync = Number.isFinite(request.now) ? settings.syncAdmission : undefined;
  let nothingSuspended = false;
  // Through the fail-closed helper's synchronous half: a call without limits pays for no result
  // object, controller or closure here (docs/performance.md, "The pipeline as a list of steps").
  if (sync !== undefined) nothingSuspended = callSync(sync.nothingSuspended, undefined) === true;
  if (nothingSuspended && decision.limits === undefined && settings.maxSessionCalls === undefined)
    return undefined;
  let admit: AdmitRequest;
  try {
    admit = buildAdmit(settings, request, decision, call, nothingSuspended);
  } catch (error) {
    if (error instanceof BudgetAmountError) return budgetAmountDenial(error);
    return limitDeny('POLICY_ERROR', `malformed limits: ${describeError(error)}`, decision.rules);
  }
  if (sync !== undefined && call.admissions === 0 && !call.peek) {
    // A call's first admission on a synchronous store: at once, and without the holder lookups
    // (see SyncAdmission). A caller who already cancelled is not admitted.
    if (call.signal?.aborted) return CANCELLED;
    const answer = callSync(sync.admitNew, admit);
    if (answer instanceof CallFailure) return storeFailed(answer.error);
    return admitted(settings, request, call, admit, answer, clock);
  }
  const store = settings.store;
  const result = callSafely(() => store.admit(admit), {
    timeoutMs: settings.storeTimeoutMs,
    signal: call.signal,
    // The call gave up (cancelled, or the store took longer than storeTimeout) but the store
    // still admitted it: what it took is given back at once, or the slot would be held until its
    // lease ends and the reservation counted all window long for a call that never ran.
    onLate: (answer) => {
      const late = call.peek ? undefined : admitted(settings, request, call, admit, answer, clock);
      if (late !== undefined && !('type' in late)) late.release('not-run');
    },
  });
  return result instanceof Promise
    ? result.then((outcome) => answered(settings, request, call, admit, outcome, clock))
    : answered(settings, request, call, admit, result, clock);
}

/**
 * After a wait for an approval, before anything else: the kill switch (and the credential's
 * revocation entries) checked again, at `now`, in one store operation that also renews the
 * call's concurrency slots. A deny, or undefined to go on. Nothing else is taken again.
 */
export function checkAgain(
  settings: LimitsSettings,
  request: ToolRequest,
  call: AdmittedCall,
  held: LimitLease | undefined,
): DenyDecision | undefined | Promise<DenyDecision | undefined> {
  const sync = settings.syncAdmission;
  const nothingSuspended = sync !== undefined && callSync(sync.nothingSuspended, undefined) === true;
  const suspensions = nothingSuspended ? NO_SUSPENSIONS : suspensionKeys(request, call);
  if (call.signal?.aborted) return CANCELLED;
  const renewal =
    held instanceof HeldLease
      ? held.renew(suspensions, call.signal)
      : suspensions.length === 0
        ? undefined
        : callSafely(() => settings.store.admit({ now: request.now, holder: call.holder, suspensions }), {
            timeoutMs: settings.storeTimeoutMs,
            signal: call.signal,
          });
  if (renewal === undefined) return undefined;
  const read = (outcome: SafeResult<unknown>): DenyDecision | undefined => {
    const answer = answered(settings, request, call, { now: request.now, holder: call.holder }, outcome);
    return answer !== undefined && 'type' in answer ? answer : undefined;
  };
  return renewal instanceof Promise ? renewal.then(read) : read(renewal);
}

const CANCELLED: DenyDecision = deny('CANCELLED', 'the call was cancelled during the limit check');

function storeFailed(error: unknown): DenyDecision {
  return limitDeny('STORE_UNAVAILABLE', `the state store failed: ${describeError(error)}`, []);
}

/** The store's answer through the fail-closed helper: a failure denies, an answer is read. */
function answered(
  settings: LimitsSettings,
  request: ToolRequest,
  call: AdmittedCall,
  admit: AdmitRequest,
  outcome: SafeResult<unknown>,
  clock?: () => number,
): Admitted {
  if (outcome.ok) return admitted(settings, request, call, admit, outcome.value, clock);
  if (outcome.reason === 'aborted') return CANCELLED;
  if (outcome.reason === 'error') return storeFailed(outcome.error);
  return limitDeny(
    'STORE_UNAVAILABLE',
    `the state store did not answer within ${settings.storeTimeoutMs} ms`,
    [],
  );
}

/** Maps the store's answer to a deny, a lease, or nothing held. */
function admitted(
  settings: LimitsSettings,
  request: ToolRequest,
  call: AdmittedCall,
  admit: AdmitRequest,
  answer: unknown,
  clock?: () => number,
): Admitted {
  const result = readAnswer(answer);
  if (result === undefined)
    return limitDeny('STORE_UNAVAILABLE', 'the state store gave a malformed answer', []);
  if (!result.ok) {
    const identity =
      result.kind === 'suspended' && typeof result.key === 'string'
        ? settings.suspensionDenial?.(result.key)
        : undefined;
    if (identity !== undefined) return limitDeny(identity.code, identity.reason, []);
    return refusedByStore(admit, result);
  }
  if (call.peek) return undefined;
  const semaphores = admit.semaphores;
  const budgets = admit.budgets?.map((check) => check.key);
  if (semaphores === undefined && budgets === undefined) return undefined;
  return new HeldLease(settings, call.holder, request.now, semaphores, budgets, clock);
}

/**
 * The store's answer read once, field by field (a getter that throws, a Proxy: malformed), so what
 * is checked is what is used; `undefined` when it is not an answer.
 */
function readAnswer(answer: unknown): AdmitResult | undefined {
  if (typeof answer !== 'object' || answer === null) return undefined;
  try {
    const { ok } = answer as AdmitResult;
    if (ok === true) return ACCEPTED;
    if (ok !== false) return undefined;
    const { kind, key, retryAfterMs } = answer as Extract<AdmitResult, { ok: false }>;
    return retryAfterMs === undefined ? { ok, kind, key } : { ok, kind, key, retryAfterMs };
  } catch {
    return undefined;
  }
}
const ACCEPTED: AdmitResult = Object.freeze({ ok: true });

function buildAdmit(
  settings: LimitsSettings,
  request: ToolRequest,
  decision: Exclude<Decision, { type: 'deny' }>,
  call: AdmittedCall,
  nothingSuspended: boolean,
): AdmitRequest {
  const context = request.context;
  const suspensions = nothingSuspended ? (NO_SUSPENSIONS as string[]) : suspensionKeys(request, call);
  let rates: readonly RateCheck[] | undefined;
  let semaphores: SemaphoreCheck[] | undefined;
  let budgets: BudgetCheck[] | undefined;
  if (settings.maxSessionCalls !== undefined && context.session !== undefined) {
    const key = `session-calls:${JSON.stringify(context.session)}`;
    rates = [{ key, limit: settings.maxSessionCalls, windowMs: SESSION_WINDOW_MS }];
  }
  const requirements = decision.limits;
  if (requirements !== undefined) {
    if (!Array.isArray(requirements)) throw new TypeError('decision.limits must be an array');
    const leaseMs = leaseOf(settings, decision);
    // Limits of one rule id from two sources (two policies combined) share counters.
    const counters = requirements.length > 1 ? new Map<string, RateCheck | BudgetCheck>() : undefined;
    for (const requirement of requirements) {
      const parsed = parsedLimits(requirement.rule, requirement.limits);
      const keys = keysOf(parsed, request);
      if (keys.rateChecks !== undefined) {
        if (counters !== undefined) sharedCounter(counters, parsed.rule, keys.rateChecks[0] as RateCheck);
        // The common single rate check is a shared frozen list: nothing to allocate per call.
        rates = rates === undefined ? keys.rateChecks : [...rates, ...keys.rateChecks];
      }
      if (parsed.concurrency !== undefined) {
        const key = keys.concurrency;
        semaphores ??= [];
        semaphores.push({ key, limit: parsed.concurrency, leaseMs });
      }
      if (parsed.budget !== undefined) {
        const key = keys.budget;
        const amount = measure(parsed.budget, request, parsed.rule);
        const check = { key, amount, max: parsed.budget.max, windowMs: parsed.budget.windowMs };
        if (counters !== undefined) sharedCounter(counters, parsed.rule, check);
        budgets ??= [];
        budgets.push(check);
      }
    }
  }
  const admit: {
    -readonly [K in keyof AdmitRequest]: AdmitRequest[K];
  } = { now: request.now, holder: call.holder, suspensions };
  if (call.peek) admit.peek = true;
  if (rates !== undefined) admit.rates = rates;
  if (semaphores !== undefined) admit.semaphores = semaphores;
  if (budgets !== undefined) admit.budgets = budgets;
  return admit;
}

/**
 * Counters are per rule id, so two limits of one id (two policies combined, each with a rule of
 * that id, or an engine naming a rule twice) share them. That holds both only when they count
 * alike: rates over one window (each count is checked against the same hits), budgets reserving
 * one amount over one window (each max is checked against the same sum). Otherwise one would
 * prune the other's hits or reserve its amount for both, and neither would hold: refused.
 */
function sharedCounter(
  counters: Map<string, RateCheck | BudgetCheck>,
  rule: string,
  check: RateCheck | BudgetCheck,
): void {
  const other = counters.get(check.key);
  if (other === undefined) {
    counters.set(check.key, check);
    return;
  }
  const budget = 'amount' in check;
  if (other.windowMs === check.windowMs && (!budget || (other as BudgetCheck).amount === check.amount))
    return;
  throw new TypeError(
    `rule ${rule} has two ${budget ? 'budgets' : 'rates'} that count differently (${budget ? 'amount or window' : 'window'}), which would share one counter; give each rule its own id`,
  );
}

/** The suspension entries that refuse the call: its tool, agent, principal, session, and revocations. */
function suspensionKeys(request: ToolRequest, call: AdmittedCall): string[] {
  const context = request.context;
  const suspensions: string[] = [];
  for (const field of SUSPENSION_FIELDS) {
    const value = field === 'tool' ? request.tool.name : context[field];
    if (value !== undefined) suspensions.push(cachedSuspensionKey(field, value));
  }
  const revocations = call.revocationKeys;
  if (revocations !== undefined) for (const key of revocations) suspensions.push(key);
  return suspensions;
}

function measure(budget: NonNullable<ParsedLimits['budget']>, request: ToolRequest, rule: string): number {
  const amount = budget.amount(request);
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
    // An async cost function: too late to count, and its rejection must not end the process.
    dropPromise(amount);
    throw new BudgetAmountError(
      rule,
      budget.what,
      `${budget.what} is not a finite, non-negative number, so the budget of rule ${rule} cannot be applied`,
    );
  }
  return amount;
}
