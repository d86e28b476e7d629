import type { Tri } from './condition-types.ts';
import { compileSafeRegex, MAX_MATCH_INPUT } from './regex.ts';

// The operators of conditions (`eq`, `in`, `lt`, `startsWith`, `includes`, `matches`, `exists`…):
// each operand is checked once, at compile time, and becomes a test of the value found at a path
// that answers true, false or undefined (indeterminate: a missing, `null`, `NaN` or wrongly typed
// value). src/policy/conditions.ts compiles paths, combinators and scopes around them.

/** Maximum nesting of conditions, and of the values operators are given. */
export const MAX_NESTING = 32;

/** What compiling an operator needs from the condition compiler. */
export interface OperandSite {
  /** What the condition belongs to (a rule, a grant), for error messages. */
  readonly label: string;
  /** Throws a ConfigurationError about the field at `where`. */
  fail(where: string, message: string): never;
  /** The own string keys of an object in a policy; symbols and prototype keys are refused. */
  keys(node: object, where: string): string[];
}

type Kind = 'string' | 'number' | 'boolean' | 'array' | 'object';

/** The JSON kind of a usable value; `undefined` for missing, `null`, `NaN`, and non-JSON values. */
function kindOfValue(value: unknown): Kind | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return typeof value as Kind;
    case 'number':
      return Number.isFinite(value) ? 'number' : undefined;
    case 'object':
      if (value === null) return undefined;
      return Array.isArray(value) ? 'array' : 'object';
    default:
      return undefined;
  }
}

/** Compiles one operator with its operand; an invalid operand fails through `site` (a ConfigurationError). */
export function compileOperator(
  op: string,
  operand: unknown,
  where: string,
  site: OperandSite,
): (actual: unknown) => Tri {
  switch (op) {
    case 'eq':
    case 'ne': {
      const kind = jsonKind(operand, where, site);
      const negate = op === 'ne';
      if (kind !== 'array' && kind !== 'object') {
        return (actual) =>
          typeof actual !== kind || Number.isNaN(actual) ? undefined : (actual === operand) !== negate;
      }
      return (actual) => (kindOfValue(actual) !== kind ? undefined : deepEqual(actual, operand) !== negate);
    }
    case 'in':
    case 'notIn': {
      if (!Array.isArray(operand)) site.fail(where, `${op} takes a list`);
      const kinds = new Set(operand.map((item) => jsonKind(item, where, site)));
      if (kinds.size > 1) site.fail(where, `${op} takes a list of values of one type`);
      const kind = [...kinds][0];
      if (kind === 'array' || kind === 'object')
        site.fail(where, `${op} takes a list of strings, numbers or booleans`);
      const set = new Set<unknown>(operand);
      const negate = op === 'notIn';
      return (actual) => {
        const actualKind = kindOfValue(actual);
        if (actualKind === undefined || actualKind === 'array' || actualKind === 'object') return undefined;
        if (kind !== undefined && actualKind !== kind) return undefined;
        return set.has(actual) !== negate;
      };
    }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      if (!(typeof operand === 'string' || (typeof operand === 'number' && Number.isFinite(operand))))
        site.fail(where, `${op} takes a finite number or a string`);
      const kind = typeof operand;
      const bound = operand as number | string;
      const compare =
        op === 'lt'
          ? (a: number | string) => a < bound
          : op === 'lte'
            ? (a: number | string) => a <= bound
            : op === 'gt'
              ? (a: number | string) => a > bound
              : (a: number | string) => a >= bound;
      return (actual) =>
        typeof actual !== kind || Number.isNaN(actual) ? undefined : compare(actual as number | string);
    }
    case 'startsWith':
    case 'endsWith': {
      if (typeof operand !== 'string') site.fail(where, `${op} takes a string`);
      return op === 'startsWith'
        ? (actual) => (typeof actual === 'string' ? actual.startsWith(operand) : undefined)
        : (actual) => (typeof actual === 'string' ? actual.endsWith(operand) : undefined);
    }
    case 'includes': {
      const kind = jsonKind(operand, where, site);
      if (kind === 'array' || kind === 'object')
        site.fail(where, 'includes takes a string, number or boolean');
      return (actual) => {
        if (typeof actual === 'string')
          return kind === 'string' ? actual.includes(operand as string) : undefined;
        if (Array.isArray(actual)) return actual.includes(operand);
        return undefined;
      };
    }
    case 'matches': {
      const regex = compileSafeRegex(operand, `${site.label}: ${where}`);
      // The explanation of a decision tests the same value again: remember the last answer.
      let last: string | undefined;
      let answer: Tri;
      return (actual) => {
        if (typeof actual !== 'string' || actual.length > MAX_MATCH_INPUT) return undefined;
        if (actual !== last) {
          answer = regex.test(actual);
          last = actual;
        }
        return answer;
      };
    }
    case 'exists': {
      if (typeof operand !== 'boolean') site.fail(where, 'exists takes true or false');
      return (actual) => (actual !== undefined && actual !== null) === operand;
    }
    default:
      site.fail(where, `unknown operator ${JSON.stringify(op)}`);
  }
}

/** Validates an operand as JSON data and returns its kind. */
function jsonKind(value: unknown, where: string, site: OperandSite, depth = 0): Kind {
  if (depth > MAX_NESTING) site.fail(where, 'the value is nested too deeply');
  const kind = kindOfValue(value);
  if (kind === undefined) site.fail(where, `expected JSON data other than null, got ${kindOf(value)}`);
  if (kind === 'array') for (const item of value as unknown[]) jsonKind(item, where, site, depth + 1);
  if (kind === 'object') {
    for (const key of site.keys(value as object, where))
      jsonKind((value as Record<string, unknown>)[key], where, site, depth + 1);
  }
  return kind;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  for (const key of keysA) {
    if (!Object.hasOwn(b, key)) return false;
    if (!deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function')
    return 'a promise';
  return `a ${typeof value}`;
}
