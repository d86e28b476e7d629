import type { FailedCondition, JsonPrimitive, JsonValue, Obligations, ToolRequest } from '../types.ts';
import type { PolicyScope, ScopeFactories } from './scopes/scope.ts';

// The public shapes of conditions (compiled in src/policy/conditions.ts, operators in
// src/policy/operators.ts).

/**
 * Three-valued truth: `true`, `false`, or `undefined` for *indeterminate* (a comparison on a
 * missing, `null`, `NaN` or wrongly typed value).
 */
export type Tri = boolean | undefined;

/** A programmatic condition. Anything but a boolean result (or a throw) is an evaluation error. */
export type Predicate = (request: ToolRequest) => boolean;

/** Operators on the value at one path. Several operators in one object must all hold. */
export interface Operators {
  eq?: JsonValue;
  ne?: JsonValue;
  in?: readonly JsonPrimitive[];
  notIn?: readonly JsonPrimitive[];
  lt?: number | string;
  lte?: number | string;
  gt?: number | string;
  gte?: number | string;
  startsWith?: string;
  endsWith?: string;
  /** Substring of a string value, or element of an array value. */
  includes?: JsonPrimitive;
  /** A regular expression (JavaScript `u` syntax), run on a linear-time engine. */
  matches?: string;
  /** `true`: the value is present and not `null`. Never indeterminate. */
  exists?: boolean;
  /** Scopes written as data (policy files): `{ pathScope: { roots: ['/data'] } }`. */
  pathScope?: JsonValue;
  urlScope?: JsonValue;
  sqlScope?: JsonValue;
}

/**
 * A condition: a map of paths (`args.*`, `context.*`, `tool.*`) to operators or scopes, plus the
 * combinators `all`, `any`, `not`; or a predicate. All keys of one map must hold.
 */
export type Condition = Predicate | ConditionMap;

/** A condition written as data. */
export interface ConditionMap {
  all?: readonly Condition[];
  any?: readonly Condition[];
  not?: Condition;
  [path: `args.${string}` | `context.${string}` | `tool.${string}`]: Operators | PolicyScope;
}

/** Thrown by a compiled condition when evaluation fails (a predicate throws or returns a non-boolean). */
export class ConditionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConditionError';
  }
}

/**
 * Explains a condition's value for one request: the tests that did not come out as `want`, each
 * with its path, what it expected and the value found. `want: true` explains why a condition did
 * not hold; `want: false` why it was not false (what made a deny rule apply). Never throws; run
 * only on the deny path.
 */
export type Explain = (request: ToolRequest, want: boolean) => FailedCondition[];

/** A compiled condition. */
export interface CompiledCondition {
  /**
   * `true`, `false` or `undefined` (indeterminate). Throws a ConditionError when a predicate or
   * scope fails: callers must turn that into a deny.
   */
  readonly evaluate: (request: ToolRequest) => Tri;
  /** Which tests made the condition come out other than `want` (see `Explain`). */
  readonly explain: Explain;
  /** Static obligations of scopes inside (e.g. `sqlScope({ maxRows })`), merged strictest-wins. */
  readonly obligations: Obligations | undefined;
  /** JSON description, for the policy version hash and `explain`. */
  readonly spec: JsonValue;
  /** Operators or scope names used, for lint. */
  readonly operators: ReadonlySet<string>;
}

/** Options of condition compilation. */
export interface CompileConditionOptions {
  /** Scope factories a data condition may name (`sqlScope` comes from `toolgate/sql`). */
  scopes?: ScopeFactories;
}
