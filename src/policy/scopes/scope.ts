import type { JsonValue, Obligations, ToolRequest } from '../../types.ts';

const SCOPE_BRAND: symbol = Symbol.for('toolgate.scope');

/**
 * A scope: a reusable condition on one value (a path, a URL, an SQL statement), used in `when`
 * under a path, e.g. `{ 'args.path': pathScope({ roots: ['/data'] }) }`.
 * `test` returns `true` when the value is in scope, `false` when it is not (or cannot be proved
 * to be), and `undefined` when the value is missing or of the wrong type (indeterminate).
 */
export interface PolicyScope {
  /** `'path'`, `'url'`, `'sql'`, … */
  readonly kind: string;
  /** The options as JSON, for the policy version hash and for explanations. */
  readonly spec: JsonValue;
  /** Obligations the scope adds to every decision its rule takes part in (e.g. `maxRows`). */
  readonly obligations?: Obligations;
  test(value: unknown, request: ToolRequest): boolean | undefined;
  /**
   * Why a value `test` refused is out of scope, in words that follow the path: `reads table
   * customers, outside the scope`. Called only on the deny path. Names, never the whole value.
   */
  explain?(value: unknown, request: ToolRequest): string | undefined;
}

/** Marks an object as a scope, so conditions can tell it from an operator object. */
export function defineScope<T extends PolicyScope>(scope: T): T {
  Object.defineProperty(scope, SCOPE_BRAND, { value: true });
  return Object.freeze(scope);
}

/** True for objects made by `defineScope` (from any copy of toolgate). */
export function isScope(value: unknown): value is PolicyScope {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[SCOPE_BRAND] === true &&
    typeof (value as PolicyScope).test === 'function'
  );
}

/** Factories of scopes a policy document may name, e.g. `{ 'args.sql': { sqlScope: { tables: […] } } }`. */
export type ScopeFactories = Readonly<Record<string, (options: never) => PolicyScope>>;
