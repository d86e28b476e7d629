import { describeError } from '../_internal/describe-error.ts';
import { dropPromise } from '../_internal/fail-closed.ts';
import { ConfigurationError } from '../errors.ts';
import type { JsonValue, Obligations, ToolRequest } from '../types.ts';
import { allOf, anyOf, concatExplain, type Evaluate, leafExplain, notOf } from './condition-logic.ts';
import {
  type CompileConditionOptions,
  type CompiledCondition,
  ConditionError,
  type Explain,
  type Predicate,
  type Tri,
} from './condition-types.ts';
import { mergeObligations } from './merge.ts';
import { compileOperator, kindOf, MAX_NESTING, type OperandSite } from './operators.ts';
import { pathScope } from './scopes/path.ts';
import { isScope, type PolicyScope, type ScopeFactories } from './scopes/scope.ts';
import { urlScope } from './scopes/url.ts';

const COMBINATORS = new Set(['all', 'any', 'not']);
const ROOTS = new Set(['args', 'context', 'tool']);
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const OPERATORS = new Set([
  'eq',
  'ne',
  'in',
  'notIn',
  'lt',
  'lte',
  'gt',
  'gte',
  'startsWith',
  'endsWith',
  'includes',
  'matches',
  'exists',
]);
const DATA_SCOPES = new Set(['pathScope', 'urlScope', 'sqlScope']);
type Compiled = { evaluate: Evaluate; spec: JsonValue; explain: Explain };

interface Compiler extends OperandSite {
  readonly scopes: ScopeFactories;
  obligations: Obligations | undefined;
  readonly operators: Set<string>;
}

/**
 * Compiles a `when` condition. Invalid conditions (unknown operators or paths, wrong operand
 * types, unsafe patterns, prototype keys) throw a ConfigurationError naming `label` and the field.
 */
export function compileCondition(
  when: unknown,
  label: string,
  options: CompileConditionOptions = {},
): CompiledCondition {
  const compiler: Compiler = {
    label,
    scopes: options.scopes ?? {},
    obligations: undefined,
    operators: new Set(),
    fail: (where, message) => fail(compiler, where, message),
    keys: (node, where) => ownKeys(node, where, compiler),
  };
  const { evaluate, spec, explain } = compileNode(when, 'when', compiler, 0);
  return Object.freeze({
    evaluate,
    explain,
    spec,
    obligations: compiler.obligations,
    operators: compiler.operators,
  });
}

/**
 * Compiles a condition into a function returning `true`, `false` or `undefined` (indeterminate).
 * Stable API, used for grant scopes.
 *
 * Errors: an invalid condition throws a ConfigurationError here, at compile time. At evaluation
 * the returned function never throws: a predicate or scope that throws or returns a non-boolean
 * is reported as `undefined` (indeterminate), exactly like a missing value. Callers that allow
 * only on `true` therefore can never allow on an error.
 *
 * @example
 * const inScope = compileWhen({ 'args.amount': { lte: 100 } }, 'grant g-1');
 * inScope(request); // true, false or undefined
 */
export function compileWhen(
  when: unknown,
  label: string,
  options?: CompileConditionOptions,
): (request: ToolRequest) => boolean | undefined {
  const { evaluate } = compileCondition(when, label, options);
  return (request) => {
    try {
      return evaluate(request);
    } catch {
      return undefined;
    }
  };
}

function fail(compiler: Compiler, where: string, message: string): never {
  throw new ConfigurationError(`${compiler.label}: ${where}: ${message}`);
}

function compileNode(node: unknown, where: string, compiler: Compiler, depth: number): Compiled {
  if (depth > MAX_NESTING) fail(compiler, where, `conditions are nested deeper than ${MAX_NESTING}`);
  if (typeof node === 'function') {
    compiler.operators.add('predicate');
    const evaluate = predicateEvaluator(node as Predicate, where);
    return {
      evaluate,
      spec: { $predicate: String(node) },
      explain: leafExplain(
        evaluate,
        where,
        (want) => (want ? 'the predicate holds' : 'the predicate fails'),
        () => null,
      ),
    };
  }
  if (typeof node !== 'object' || node === null || Array.isArray(node))
    fail(compiler, where, 'a condition must be an object of paths, all / any / not, or a predicate');
  if (isScope(node))
    fail(compiler, where, 'a scope must be placed under a path, e.g. { "args.path": scope }');
  const keys = ownKeys(node, where, compiler);
  if (keys.length === 0) fail(compiler, where, 'a condition must not be empty');
  const parts: Evaluate[] = [];
  const explains: Explain[] = [];
  const spec: Record<string, JsonValue> = {};
  const record = node as Record<string, unknown>;
  for (const key of keys) {
    const value = record[key];
    const at = `${where}.${key}`;
    if (COMBINATORS.has(key)) {
      if (key === 'not') {
        const inner = compileNode(value, at, compiler, depth + 1);
        parts.push(notOf(inner.evaluate));
        explains.push((request, want) => inner.explain(request, !want));
        spec.not = inner.spec;
        continue;
      }
      if (!Array.isArray(value) || value.length === 0)
        fail(compiler, at, `${key} takes a non-empty list of conditions`);
      const compiled = value.map((child, index) =>
        compileNode(child, `${at}[${index}]`, compiler, depth + 1),
      );
      const evaluators = compiled.map((child) => child.evaluate);
      parts.push(key === 'all' ? allOf(evaluators) : anyOf(evaluators));
      explains.push(concatExplain(compiled.map((child) => child.explain)));
      spec[key] = compiled.map((child) => child.spec);
      continue;
    }
    const getter = compilePath(key, at, compiler);
    const compiled = compileTest(value, at, compiler, getter, key);
    parts.push(compiled.evaluate);
    explains.push(compiled.explain);
    spec[key] = compiled.spec;
  }
  return {
    evaluate: parts.length === 1 ? parts[0]! : allOf(parts),
    spec,
    explain: explains.length === 1 ? explains[0]! : concatExplain(explains),
  };
}

function ownKeys(node: object, where: string, compiler: Compiler): string[] {
  const keys: string[] = [];
  for (const key of Reflect.ownKeys(node)) {
    if (typeof key !== 'string') fail(compiler, where, 'symbol keys are not allowed');
    if (FORBIDDEN_SEGMENTS.has(key)) fail(compiler, where, `the key ${JSON.stringify(key)} is not allowed`);
    keys.push(key);
  }
  const proto = Object.getPrototypeOf(node);
  if (proto !== Object.prototype && proto !== null)
    fail(compiler, where, 'a condition must be a plain object');
  return keys;
}

function predicateEvaluator(fn: Predicate, where: string): Evaluate {
  return (request) => {
    let result: unknown;
    try {
      result = fn(request);
    } catch (error) {
      throw new ConditionError(`${where}: the predicate threw: ${describeError(error)}`, { cause: error });
    }
    if (typeof result !== 'boolean') {
      // An async predicate: its answer comes too late to decide, and its rejection must not end the process.
      dropPromise(result);
      throw new ConditionError(`${where}: the predicate returned ${kindOf(result)}, not a boolean`);
    }
    return result;
  };
}

/** Reads one path of the request; `undefined` when any step is missing. Own properties only. */
type Getter = (request: ToolRequest) => unknown;

function compilePath(path: string, where: string, compiler: Compiler): Getter {
  const segments = path.split('.');
  const root = segments[0]!;
  if (!ROOTS.has(root) || segments.length < 2)
    fail(compiler, where, `unknown path ${JSON.stringify(path)} (paths start with args., context. or tool.)`);
  for (const segment of segments) {
    if (segment.length === 0) fail(compiler, where, `empty segment in path ${JSON.stringify(path)}`);
    if (FORBIDDEN_SEGMENTS.has(segment))
      fail(compiler, where, `the path segment ${JSON.stringify(segment)} is not allowed`);
  }
  const rest = segments.slice(1);
  const pick = (request: ToolRequest): unknown =>
    root === 'args' ? request.args : root === 'context' ? request.context : request.tool;
  if (rest.length === 1) {
    const key = rest[0]!;
    return (request) => child(pick(request), key);
  }
  return (request) => {
    let value: unknown = pick(request);
    for (const key of rest) {
      value = child(value, key);
      if (value === undefined) return undefined;
    }
    return value;
  };
}

function child(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    if (!/^(0|[1-9]\d*)$/.test(key)) return undefined;
    return value[Number(key)];
  }
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
}

function compileTest(value: unknown, where: string, compiler: Compiler, get: Getter, path: string): Compiled {
  if (isScope(value)) return compileScope(value, where, compiler, get, path);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(compiler, where, 'expected an object of operators, e.g. { "eq": 1 }, or a scope');
  const keys = ownKeys(value, where, compiler);
  if (keys.length === 0) fail(compiler, where, 'expected at least one operator');
  const record = value as Record<string, unknown>;
  const tests: ((actual: unknown) => Tri)[] = [];
  const scopeParts: Evaluate[] = [];
  const scopeExplains: Explain[] = [];
  const operatorText: string[] = [];
  const spec: Record<string, JsonValue> = {};
  for (const key of keys) {
    const operand = record[key];
    const at = `${where}.${key}`;
    if (DATA_SCOPES.has(key)) {
      const factory = compiler.scopes[key] ?? builtinScope(key);
      if (factory === undefined)
        fail(
          compiler,
          at,
          `${key} needs its factory: pass { scopes: { ${key} } } (import it from 'toolgate/sql')`,
        );
      let scope: PolicyScope;
      try {
        scope = (factory as (options: unknown) => PolicyScope)(operand);
      } catch (error) {
        fail(compiler, at, describeError(error).replace(/^ConfigurationError: (toolgate: )?/, ''));
      }
      const compiled = compileScope(scope, at, compiler, get, path);
      scopeParts.push(compiled.evaluate);
      scopeExplains.push(compiled.explain);
      spec[key] = compiled.spec;
      continue;
    }
    if (!OPERATORS.has(key)) fail(compiler, at, `unknown operator ${JSON.stringify(key)}`);
    compiler.operators.add(key);
    tests.push(compileOperator(key, operand, at, compiler));
    operatorText.push(`${key} ${JSON.stringify(operand)}`);
    spec[key] = toSpec(operand);
  }
  const parts: Evaluate[] = [...scopeParts];
  const explains: Explain[] = [...scopeExplains];
  let operatorsPart: Evaluate | undefined;
  if (tests.length === 1) {
    const test = tests[0]!;
    operatorsPart = (request) => test(get(request));
  } else if (tests.length > 1) {
    operatorsPart = (request) => {
      const actual = get(request);
      let unknown = false;
      for (const test of tests) {
        const result = test(actual);
        if (result === false) return false;
        if (result === undefined) unknown = true;
      }
      return unknown ? undefined : true;
    };
  }
  if (operatorsPart !== undefined) {
    parts.push(operatorsPart);
    const text = operatorText.join(' and ');
    explains.push(leafExplain(operatorsPart, path, (want) => (want ? text : `not ${text}`), get));
  }
  return {
    evaluate: parts.length === 1 ? parts[0]! : allOf(parts),
    spec,
    explain: explains.length === 1 ? explains[0]! : concatExplain(explains),
  };
}

const BUILTIN_SCOPES: ScopeFactories = { pathScope, urlScope };

function builtinScope(name: string): ((options: never) => PolicyScope) | undefined {
  return Object.hasOwn(BUILTIN_SCOPES, name) ? BUILTIN_SCOPES[name] : undefined;
}

function compileScope(
  scope: PolicyScope,
  where: string,
  compiler: Compiler,
  get: Getter,
  path: string,
): Compiled {
  compiler.operators.add(`${scope.kind}Scope`);
  if (scope.obligations !== undefined)
    compiler.obligations = mergeObligations(compiler.obligations, scope.obligations);
  const evaluate: Evaluate = (request) => {
    const actual = get(request);
    if (actual === undefined || actual === null) return undefined;
    let result: unknown;
    try {
      result = scope.test(actual, request);
    } catch (error) {
      throw new ConditionError(`${where}: the ${scope.kind} scope failed: ${describeError(error)}`, {
        cause: error,
      });
    }
    if (result !== true && result !== false && result !== undefined)
      throw new ConditionError(`${where}: the ${scope.kind} scope returned ${kindOf(result)}`);
    return result;
  };
  return {
    evaluate,
    spec: { $scope: scope.kind, options: scope.spec },
    explain: leafExplain(
      evaluate,
      path,
      (want) => `${want ? 'inside' : 'outside'} the ${scope.kind} scope ${JSON.stringify(scope.spec)}`,
      get,
      (request, value) => {
        try {
          return scope.explain?.(value, request) ?? `is outside the ${scope.kind} scope`;
        } catch {
          return `is outside the ${scope.kind} scope`;
        }
      },
    ),
  };
}

function toSpec(value: unknown): JsonValue {
  return value as JsonValue;
}
