import { DENY_CODES, type Decision, type FailedCondition } from '../types.ts';
import { copyDecisionData } from './decision-data.ts';

/** A value of the copy: frozen data (and at most a budget's cost function). */
type Data = unknown;
type DataObject = Readonly<Record<string, unknown>>;

const denyCodes = new Set<string>(DENY_CODES);

/**
 * Reads an engine's answer once, as data: a frozen deep copy taken without running any code it
 * carries (see `copyDecisionData`), then validated in that copy, which is the only thing used
 * afterwards. Throws a TypeError describing the first problem.
 */
export function readDecision(value: unknown): Decision {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError('a decision must be an object');
  return validate(copyDecisionData(value));
}

/** Validates the copy as a decision; the parts kept are frozen already. */
function validate(raw: DataObject): Decision {
  const rules = raw.rules;
  if (!Array.isArray(rules) || !rules.every((rule) => typeof rule === 'string'))
    throw new TypeError('decision.rules must be an array of strings');
  const policyVersion = optionalString(raw.policyVersion, 'policyVersion');
  const decision: Record<string, unknown> = { type: raw.type, rules };
  switch (raw.type) {
    case 'allow': {
      const reason = optionalString(raw.reason, 'reason');
      if (reason !== undefined) decision.reason = reason;
      effects(raw, decision);
      break;
    }
    case 'deny': {
      if (typeof raw.code !== 'string' || !denyCodes.has(raw.code))
        throw new TypeError('decision.code must be a deny code');
      decision.code = raw.code;
      decision.reason = requiredString(raw.reason, 'reason');
      // Finite by now: the copy refuses non-finite numbers.
      if (typeof raw.retryAfterMs === 'number') decision.retryAfterMs = raw.retryAfterMs;
      if (raw.failed !== undefined) decision.failed = validateFailed(raw.failed);
      break;
    }
    case 'ask': {
      decision.reason = requiredString(raw.reason, 'reason');
      if (raw.approval !== undefined) decision.approval = object(raw.approval, 'approval');
      effects(raw, decision);
      break;
    }
    default:
      throw new TypeError(`decision.type must be 'allow', 'deny' or 'ask'`);
  }
  if (policyVersion !== undefined) decision.policyVersion = policyVersion;
  return Object.freeze(decision) as Decision;
}

/** Obligations and limits of an allow or ask decision. */
function effects(raw: DataObject, decision: Record<string, unknown>): void {
  if (raw.obligations !== undefined) decision.obligations = object(raw.obligations, 'obligations');
  if (raw.limits !== undefined) decision.limits = validateLimits(raw.limits);
}

function requiredString(value: Data, field: string): string {
  if (typeof value !== 'string') throw new TypeError(`decision.${field} must be a string`);
  return value;
}

function optionalString(value: Data, field: string): string | undefined {
  if (value === undefined) return undefined;
  return requiredString(value, field);
}

function object(value: Data, field: string): DataObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError(`decision.${field} must be an object`);
  return value as DataObject;
}

const FAILED_KEYS = new Set(['rule', 'path', 'expected', 'actual', 'problem']);

/** `failed` of a deny decision: a list of `{ path, expected, rule?, actual?, problem? }`. */
function validateFailed(value: Data): readonly FailedCondition[] {
  if (!Array.isArray(value)) throw new TypeError('decision.failed must be an array');
  return Object.freeze(
    value.map((entry, index) => {
      const at = `failed[${index}]`;
      const raw = object(entry, at);
      for (const key of Object.keys(raw))
        if (!FAILED_KEYS.has(key)) throw new TypeError(`decision.${at} has an unknown field ${key}`);
      requiredString(raw.path, `${at}.path`);
      requiredString(raw.expected, `${at}.expected`);
      optionalString(raw.rule, `${at}.rule`);
      optionalString(raw.problem, `${at}.problem`);
      return raw as unknown as FailedCondition;
    }),
  );
}

function validateLimits(value: Data): readonly DataObject[] {
  if (!Array.isArray(value)) throw new TypeError('decision.limits must be an array');
  return Object.freeze(
    value.map((entry, index) => {
      const limit = object(entry, `limits[${index}]`);
      if (typeof limit.rule !== 'string')
        throw new TypeError(`decision.limits[${index}].rule must be a string`);
      return Object.freeze({ rule: limit.rule, limits: object(limit.limits, `limits[${index}].limits`) });
    }),
  );
}
