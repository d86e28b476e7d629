import { types } from 'node:util';
import { describeError } from '../_internal/describe-error.ts';
import { callSafely, type SafeResult } from '../_internal/fail-closed.ts';
import {
  DENY_CODES,
  type Decision,
  type DenyCode,
  type DenyDecision,
  type FailedCondition,
  type JsonValue,
  type ToolRequest,
} from '../types.ts';
import type { PolicyEngine } from './types.ts';

const denyCodes = new Set<string>(DENY_CODES);

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
  return Object.freeze(decision);
}

/**
 * Asks the engine for a decision, failing closed: a throw or rejection denies with `POLICY_ERROR`,
 * no answer within `timeoutMs` with `POLICY_TIMEOUT`, the caller's abort with `CANCELLED`, and any
 * value that is not a well-formed `Decision` with `POLICY_ERROR`. The returned decision is a frozen
 * copy, so the engine cannot change it afterwards.
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
 * Decisions already seen to be valid and frozen all the way down (e.g. those `rules()` computes
 * once per rule): returned as they are, since nothing can change them. A WeakSet keyed by
 * long-lived decision objects, never by per-call ones (those are not frozen, or not kept).
 */
const trusted = new WeakSet<object>();

/**
 * Validates and copies a decision; throws a TypeError describing the first problem. A valid
 * decision that is frozen at every level the copy would freeze, with no fields beyond those of
 * the copy, is returned itself (and remembered): it is exactly what the copy would be.
 */
export function normalizeDecision(value: unknown): Decision {
  if (typeof value === 'object' && value !== null && trusted.has(value)) return value as Decision;
  const copy = normalizeUntrusted(value);
  if (frozenLike(value as Record<string, unknown>, copy as unknown as Record<string, unknown>)) {
    trusted.add(value as object);
    return value as Decision;
  }
  return copy;
}

/**
 * Whether `raw` (valid, as `copy` proves) is frozen plain data wherever `copy` is frozen, with the
 * same fields: then no later read can differ from what was validated.
 */
function frozenLike(raw: Record<string, unknown>, copy: Record<string, unknown>): boolean {
  if (!frozenData(raw)) return false;
  const keys = Object.keys(copy);
  if (Object.keys(raw).length !== keys.length) return false;
  for (const key of keys) {
    const rawField = raw[key];
    if (key === 'rules' || key === 'obligations' || key === 'approval') {
      if (!frozenData(rawField)) return false;
      if (Object.keys(rawField as object).length !== Object.keys(copy[key] as object).length) return false;
    } else if (key === 'failed') {
      if (!frozenData(rawField)) return false;
      for (const entry of rawField as readonly unknown[]) if (!frozenData(entry)) return false;
      if ((rawField as readonly unknown[]).length !== (copy[key] as readonly unknown[]).length) return false;
      // An entry's `actual` is plain JSON the copy keeps as it is; a nested one must be frozen too.
      for (const entry of rawField as readonly Record<string, unknown>[])
        if (typeof entry.actual === 'object' && entry.actual !== null && !Object.isFrozen(entry.actual))
          return false;
    } else if (key === 'limits') {
      if (!frozenData(rawField)) return false;
      for (const entry of rawField as readonly Record<string, unknown>[]) {
        if (!frozenData(entry) || Object.keys(entry).length !== 2 || !frozenData(entry.limits)) return false;
      }
    } else if (rawField !== copy[key]) {
      return false;
    }
  }
  return true;
}

/**
 * Frozen, not a Proxy, a plain object or array (nothing inherited from a custom prototype), and
 * only data properties: its reads can never change.
 */
function frozenData(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || types.isProxy(value) || !Object.isFrozen(value))
    return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== (Array.isArray(value) ? Array.prototype : Object.prototype)) return false;
  for (const descriptor of Object.values(Object.getOwnPropertyDescriptors(value)))
    if (!('value' in descriptor)) return false;
  return true;
}

function normalizeUntrusted(value: unknown): Decision {
  if (typeof value !== 'object' || value === null) throw new TypeError('a decision must be an object');
  const raw = value as Record<string, unknown>;
  const rules = raw.rules;
  if (!Array.isArray(rules) || !rules.every((rule) => typeof rule === 'string')) {
    throw new TypeError('decision.rules must be an array of strings');
  }
  const frozenRules = Object.freeze([...(rules as string[])]);
  const policyVersion = optionalString(raw.policyVersion, 'policyVersion');
  switch (raw.type) {
    case 'allow': {
      const decision: Record<string, unknown> = { type: 'allow', rules: frozenRules };
      const reason = optionalString(raw.reason, 'reason');
      if (reason !== undefined) decision.reason = reason;
      if (raw.obligations !== undefined)
        decision.obligations = normalizeObject(raw.obligations, 'obligations');
      if (raw.limits !== undefined) decision.limits = normalizeLimits(raw.limits);
      if (policyVersion !== undefined) decision.policyVersion = policyVersion;
      return Object.freeze(decision) as Decision;
    }
    case 'deny': {
      if (typeof raw.code !== 'string' || !denyCodes.has(raw.code))
        throw new TypeError('decision.code must be a deny code');
      const decision: Record<string, unknown> = {
        type: 'deny',
        rules: frozenRules,
        code: raw.code,
        reason: requiredString(raw.reason, 'reason'),
      };
      if (typeof raw.retryAfterMs === 'number' && Number.isFinite(raw.retryAfterMs))
        decision.retryAfterMs = raw.retryAfterMs;
      if (policyVersion !== undefined) decision.policyVersion = policyVersion;
      if (raw.failed !== undefined) decision.failed = normalizeFailed(raw.failed);
      return Object.freeze(decision) as Decision;
    }
    case 'ask': {
      const decision: Record<string, unknown> = {
        type: 'ask',
        rules: frozenRules,
        reason: requiredString(raw.reason, 'reason'),
      };
      if (raw.approval !== undefined) decision.approval = normalizeObject(raw.approval, 'approval');
      if (raw.obligations !== undefined)
        decision.obligations = normalizeObject(raw.obligations, 'obligations');
      if (raw.limits !== undefined) decision.limits = normalizeLimits(raw.limits);
      if (policyVersion !== undefined) decision.policyVersion = policyVersion;
      return Object.freeze(decision) as Decision;
    }
    default:
      throw new TypeError(`decision.type must be 'allow', 'deny' or 'ask'`);
  }
}

function requiredString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new TypeError(`decision.${field} must be a string`);
  return value;
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  return requiredString(value, field);
}

function normalizeObject(value: unknown, field: string): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`decision.${field} must be an object`);
  }
  return Object.freeze({ ...(value as Record<string, unknown>) });
}

const FAILED_KEYS = new Set(['rule', 'path', 'expected', 'actual', 'problem']);

/** `failed` of a deny decision: a list of `{ path, expected, rule?, actual?, problem? }`, copied and frozen. */
function normalizeFailed(value: unknown): readonly FailedCondition[] {
  if (!Array.isArray(value)) throw new TypeError('decision.failed must be an array');
  return Object.freeze(
    value.map((entry, index) => {
      const at = `failed[${index}]`;
      const raw = normalizeObject(entry, at);
      for (const key of Object.keys(raw))
        if (!FAILED_KEYS.has(key)) throw new TypeError(`decision.${at} has an unknown field ${key}`);
      const out: { -readonly [K in keyof FailedCondition]: FailedCondition[K] } = {
        path: requiredString(raw.path, `${at}.path`),
        expected: requiredString(raw.expected, `${at}.expected`),
      };
      const rule = optionalString(raw.rule, `${at}.rule`);
      if (rule !== undefined) out.rule = rule;
      const problem = optionalString(raw.problem, `${at}.problem`);
      if (problem !== undefined) out.problem = problem;
      if (raw.actual !== undefined) out.actual = jsonCopy(raw.actual, `${at}.actual`);
      return Object.freeze(out);
    }),
  );
}

/** A frozen deep copy of JSON data; throws a TypeError on anything else. */
function jsonCopy(value: unknown, field: string): JsonValue {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) throw new TypeError(`decision.${field} must be JSON data`);
  return deepFreeze(JSON.parse(text) as JsonValue);
}

function deepFreeze(value: JsonValue): JsonValue {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function normalizeLimits(value: unknown): readonly Readonly<Record<string, unknown>>[] {
  if (!Array.isArray(value)) throw new TypeError('decision.limits must be an array');
  return Object.freeze(
    value.map((entry, index) => {
      const limit = normalizeObject(entry, `limits[${index}]`);
      if (typeof limit.rule !== 'string')
        throw new TypeError(`decision.limits[${index}].rule must be a string`);
      return Object.freeze({
        rule: limit.rule,
        limits: normalizeObject(limit.limits, `limits[${index}].limits`),
      });
    }),
  );
}
