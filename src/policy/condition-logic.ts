import { describeError } from '../_internal/describe-error.ts';
import { actualValue } from '../_internal/failed-text.ts';
import type { FailedCondition, ToolRequest } from '../types.ts';
import type { Explain, Tri } from './condition-types.ts';

// The logic of compiled conditions (conditions.ts): three-valued (Kleene) combinators, where
// `undefined` means "could not be established", and the explanations a denial carries of what
// failed.

/** A compiled test: true, false, or undefined when its value could not be established. */
export type Evaluate = (request: ToolRequest) => Tri;

/** Kleene NOT: unknown stays unknown. */
export function notOf(inner: Evaluate): Evaluate {
  return (request) => {
    const value = inner(request);
    return value === undefined ? undefined : !value;
  };
}

/** Kleene AND, evaluated left to right; stops at the first `false`. */
export function allOf(parts: readonly Evaluate[]): Evaluate {
  if (parts.length === 2) {
    const [a, b] = parts as [Evaluate, Evaluate];
    return (request) => {
      const first = a(request);
      if (first === false) return false;
      const second = b(request);
      if (second === false) return false;
      return first === undefined || second === undefined ? undefined : true;
    };
  }
  return (request) => {
    let unknown = false;
    for (const part of parts) {
      const value = part(request);
      if (value === false) return false;
      if (value === undefined) unknown = true;
    }
    return unknown ? undefined : true;
  };
}

/** Kleene OR, evaluated left to right; stops at the first `true`. */
export function anyOf(parts: readonly Evaluate[]): Evaluate {
  return (request) => {
    let unknown = false;
    for (const part of parts) {
      const value = part(request);
      if (value === true) return true;
      if (value === undefined) unknown = true;
    }
    return unknown ? undefined : false;
  };
}

/**
 * The explanation of a combination: what each part says. A part whose value is what the caller
 * wanted says nothing, so `all` names the parts that failed, `any` every alternative that did.
 */
export function concatExplain(parts: readonly Explain[]): Explain {
  return (request, want) => parts.flatMap((part) => part(request, want));
}

/**
 * The explanation of one test: nothing when it came out as wanted, else the path, what was
 * expected there and the value found. A test that throws is explained as such.
 */
export function leafExplain(
  evaluate: Evaluate,
  path: string,
  expected: (want: boolean) => string,
  actual: (request: ToolRequest) => unknown,
  problem?: (request: ToolRequest, value: unknown) => string | undefined,
): Explain {
  return (request, want) => {
    let result: Tri;
    try {
      result = evaluate(request);
    } catch (error) {
      return [{ path, expected: expected(want), problem: `could not be evaluated: ${describeError(error)}` }];
    }
    if (result === want) return [];
    const value = actual(request);
    const failed: { -readonly [K in keyof FailedCondition]: FailedCondition[K] } = {
      path,
      expected: expected(want),
    };
    if (value !== undefined) failed.actual = actualValue(value);
    const found = want && result === false ? problem?.(request, value) : undefined;
    if (found !== undefined) failed.problem = found;
    return [failed];
  };
}
