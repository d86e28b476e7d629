import { types } from 'node:util';
import { describeError } from '../_internal/describe-error.ts';
import { callSafely, type SafeResult } from '../_internal/fail-closed.ts';
import type { Decision, DenyCode, DenyDecision, FailedCondition, ToolRequest } from '../types.ts';
import { readDecision } from './read-decision.ts';
import type { PolicyEngine } from './types.ts';

/** A deny decision with the conditions that decided it (frozen); the same decision when there are none. */
export function withFailed(decision: DenyDecision, failed: readonly FailedCondition[]): DenyDecision {
  if (failed.length === 0) return decision;
  return Object.freeze({
    ...decision,
    failed: Object.freeze(failed.map((entry) => Object.freeze({ ...entry }))),
  });
}

/** Builds a frozen deny decision. */
export function deny(
  code: DenyCode,
  reason: string,
  rules: readonly string[] = [],
  policyVersion?: string,
): DenyDecision {
  const decision: { -readonly [K in keyof DenyDecision]: DenyDecision[K] } = {
    type: 'deny',
    rules: Object.freeze([...rules]),
    code,
    reason,
  };
  if (policyVersion !== undefined) decision.policyVersion = policyVersion;
  return ownDecision(Object.freeze(decision));
}

/**
 * Asks the engine for a decision, failing closed: a throw or rejection denies with `POLICY_ERROR`,
 * no answer within `timeoutMs` with `POLICY_TIMEOUT`, the caller's abort with `CANCELLED`, and any
 * value that is not a well-formed `Decision` with `POLICY_ERROR`. The returned decision is a frozen
 * deep copy read once as data (see `normalizeDecision`), so the engine cannot change it afterwards.
 */
export function evaluatePolicy(
  engine: PolicyEngine,
  request: ToolRequest,
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): Decision | Promise<Decision> {
  // The options object is passed through as-is so its lazy `signal` is only created if read.
  const outcome = callSafely((control) => engine.evaluate(request, control), options);
  return outcome instanceof Promise
    ? outcome.then((result) => toDecision(result, engine))
    : toDecision(outcome, engine);
}

/**
 * An engine as denial reasons name it: `policy engine <name>`, or `the policy engine` when it has
 * no name it can give (none, not a string, a getter that throws).
 */
export function engineLabel(engine: PolicyEngine): string {
  try {
    const name: unknown = engine.name;
    return typeof name === 'string' && name !== '' ? `policy engine ${name}` : 'the policy engine';
  } catch {
    return 'the policy engine';
  }
}

function toDecision(result: SafeResult<unknown>, engine: PolicyEngine): Decision {
  if (!result.ok) {
    if (result.reason === 'timeout')
      return deny('POLICY_TIMEOUT', `${engineLabel(engine)} did not decide in time`);
    if (result.reason === 'aborted')
      return deny('CANCELLED', 'the call was cancelled while the policy was deciding');
    return deny('POLICY_ERROR', `${engineLabel(engine)} failed: ${describeError(result.error)}`);
  }
  try {
    return normalizeDecision(result.value);
  } catch (error) {
    return deny(
      'POLICY_ERROR',
      `${engineLabel(engine)} returned an invalid decision: ${describeError(error)}`,
    );
  }
}

/**
 * Decisions toolgate built itself (`deny()`, and `rules()` for its allow and ask answers), frozen
 * all the way down by construction: used as they are. Module-private, so an engine cannot add its
 * own; a top-level `Object.isFrozen` proves nothing about what is nested.
 */
const built = new WeakSet<object>();

/**
 * Copies of decisions an engine returned that are frozen plain data all the way down: such a
 * value can never change, so the next time the engine returns it the same copy is used (and
 * whatever was derived from it, such as parsed limits, stays cached).
 */
const copies = new WeakMap<object, Decision>();

/**
 * Marks a decision that toolgate built as trusted, so `normalizeDecision` returns it as it is.
 * Only for decisions frozen all the way down from strings, numbers and booleans (tests check
 * every one `rules()` makes).
 */
export function ownDecision<T extends Decision>(decision: T): T {
  built.add(decision);
  return decision;
}

/**
 * The decision the guard works on: toolgate's own as it is; anything else read once, as data,
 * into a frozen deep copy that is validated and then the only thing used. Throws a TypeError
 * describing the first problem.
 */
export function normalizeDecision(value: unknown): Decision {
  if (typeof value === 'object' && value !== null) {
    // Identity lookups: neither runs a Proxy trap.
    if (built.has(value)) return value as Decision;
    const copy = copies.get(value);
    if (copy !== undefined) return copy;
  }
  const decision = readDecision(value);
  if (frozenThroughout(value)) copies.set(value as object, decision);
  return decision;
}

/**
 * Whether `value` (already copied, so plain JSON data without cycles) is frozen at every level,
 * with data properties only: nothing in it can ever change.
 */
function frozenThroughout(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (types.isProxy(value) || !Object.isFrozen(value)) return false;
  for (const descriptor of Object.values(Object.getOwnPropertyDescriptors(value)))
    if (!('value' in descriptor) || !frozenThroughout(descriptor.value)) return false;
  return true;
}
