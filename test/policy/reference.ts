/**
 * A small, obviously correct reference evaluator for the rule language subset used by the
 * differential tests. Slow on purpose: no index, no caching, globs through RegExp, time through Date.
 */
import type { ToolRequest } from '../../src/types.ts';

export type RefTri = true | false | 'unknown';
export type RefCondition =
  | { kind: 'op'; path: string; op: string; operand: unknown }
  | { kind: 'all' | 'any'; parts: RefCondition[] }
  | { kind: 'not'; part: RefCondition }
  | { kind: 'predicate'; fn: (request: ToolRequest) => unknown };

export interface RefRule {
  id: string;
  effect: 'allow' | 'deny' | 'ask';
  tool?: string[];
  agent?: string[];
  when?: RefCondition;
  /** UTC hours window [start, end) */
  hoursUtc?: [number, number];
  expires?: number;
}

export interface RefDecision {
  type: 'allow' | 'deny' | 'ask';
  code?: string;
  rules: string[];
}

class RefError extends Error {}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .normalize('NFC')
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 's').test(name);
}

function lookup(request: ToolRequest, path: string): unknown {
  const [root, ...rest] = path.split('.');
  let value: unknown = root === 'args' ? request.args : root === 'context' ? request.context : request.tool;
  for (const key of rest) {
    if (value === null || typeof value !== 'object') return undefined;
    if (!Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function sameType(a: unknown, b: unknown): boolean {
  return typeof a === typeof b && a !== null && b !== null && !Number.isNaN(a);
}

function evalOp(op: string, actual: unknown, operand: unknown): RefTri {
  if (op === 'exists') return (actual !== undefined && actual !== null) === operand;
  if (actual === undefined || actual === null || Number.isNaN(actual)) return 'unknown';
  switch (op) {
    case 'eq':
      return sameType(actual, operand) ? actual === operand : 'unknown';
    case 'ne':
      return sameType(actual, operand) ? actual !== operand : 'unknown';
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      if (!sameType(actual, operand)) return 'unknown';
      const a = actual as number;
      const b = operand as number;
      return op === 'lt' ? a < b : op === 'lte' ? a <= b : op === 'gt' ? a > b : a >= b;
    }
    case 'in':
    case 'notIn': {
      const list = operand as unknown[];
      if (typeof actual === 'object') return 'unknown';
      if (list.length > 0 && typeof list[0] !== typeof actual) return 'unknown';
      return list.includes(actual) === (op === 'in');
    }
    case 'startsWith':
      return typeof actual === 'string' ? actual.startsWith(operand as string) : 'unknown';
    default:
      throw new Error(`reference: unsupported operator ${op}`);
  }
}

function evalCondition(condition: RefCondition, request: ToolRequest): RefTri {
  switch (condition.kind) {
    case 'op':
      return evalOp(condition.op, lookup(request, condition.path), condition.operand);
    case 'not': {
      const inner = evalCondition(condition.part, request);
      return inner === 'unknown' ? 'unknown' : !inner;
    }
    case 'all': {
      let unknown = false;
      for (const part of condition.parts) {
        const value = evalCondition(part, request);
        if (value === false) return false;
        if (value === 'unknown') unknown = true;
      }
      return unknown ? 'unknown' : true;
    }
    case 'any': {
      let unknown = false;
      for (const part of condition.parts) {
        const value = evalCondition(part, request);
        if (value === true) return true;
        if (value === 'unknown') unknown = true;
      }
      return unknown ? 'unknown' : false;
    }
    case 'predicate': {
      let result: unknown;
      try {
        result = condition.fn(request);
      } catch {
        throw new RefError('predicate threw');
      }
      if (typeof result !== 'boolean') throw new RefError('not a boolean');
      return result;
    }
  }
}

function applies(rule: RefRule, request: ToolRequest): boolean {
  const name = request.tool.name;
  if (!(rule.tool ?? ['*']).some((pattern) => globMatches(pattern, name))) return false;
  if (rule.expires !== undefined && request.now >= rule.expires) return false;
  if (rule.hoursUtc !== undefined) {
    const minute = new Date(request.now).getUTCHours() * 60 + new Date(request.now).getUTCMinutes();
    const [start, end] = rule.hoursUtc;
    const inside =
      start <= end ? minute >= start * 60 && minute < end * 60 : minute >= start * 60 || minute < end * 60;
    if (!inside) return false;
  }
  let target: RefTri = true;
  if (rule.agent !== undefined) {
    const agent = request.context.agent;
    target =
      typeof agent !== 'string'
        ? 'unknown'
        : rule.agent.some((pattern) => globMatches(pattern, agent.normalize('NFC')));
    if (target === false) return false;
  }
  let result: RefTri = target;
  if (rule.when !== undefined) {
    const condition = evalCondition(rule.when, request);
    if (condition === false) return false;
    if (condition === 'unknown') result = 'unknown';
  }
  return result === true || rule.effect !== 'allow';
}

export function referenceDecide(ruleList: readonly RefRule[], request: ToolRequest): RefDecision {
  const errors: string[] = [];
  const applicable: RefRule[] = [];
  for (const rule of ruleList) {
    try {
      if (applies(rule, request)) applicable.push(rule);
    } catch (error) {
      if (!(error instanceof RefError)) throw error;
      errors.push(rule.id);
    }
  }
  const sorted = (ids: string[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (errors.length > 0) return { type: 'deny', code: 'POLICY_ERROR', rules: sorted(errors) };
  for (const effect of ['deny', 'ask', 'allow'] as const) {
    const ids = applicable.filter((rule) => rule.effect === effect).map((rule) => rule.id);
    if (ids.length > 0)
      return effect === 'deny'
        ? { type: 'deny', code: 'DENIED_BY_RULE', rules: sorted(ids) }
        : { type: effect, rules: sorted(ids) };
  }
  return { type: 'deny', code: 'NO_MATCHING_RULE', rules: [] };
}

/** The same rule, written for the real engine. */
export function toEngineRule(rule: RefRule): Record<string, unknown> {
  const out: Record<string, unknown> = { id: rule.id, effect: rule.effect };
  if (rule.tool !== undefined) out.tool = rule.tool;
  if (rule.agent !== undefined) out.agent = rule.agent;
  if (rule.when !== undefined) out.when = toEngineCondition(rule.when);
  if (rule.hoursUtc !== undefined) {
    const pad = (h: number) => `${String(h).padStart(2, '0')}:00`;
    out.schedule = { hours: `${pad(rule.hoursUtc[0])}-${pad(rule.hoursUtc[1])}`, tz: 'UTC' };
  }
  if (rule.expires !== undefined) out.expires = rule.expires;
  return out;
}

function toEngineCondition(condition: RefCondition): unknown {
  switch (condition.kind) {
    case 'op':
      return { [condition.path]: { [condition.op]: condition.operand } };
    case 'not':
      return { not: toEngineCondition(condition.part) };
    case 'all':
    case 'any':
      return { [condition.kind]: condition.parts.map(toEngineCondition) };
    case 'predicate':
      return condition.fn;
  }
}
