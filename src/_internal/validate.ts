import type { StandardSchemaV1 } from '../standard-schema.ts';
import type { DenyCode, FailedCondition } from '../types.ts';
import { errorParts } from './describe-error.ts';
import { isThenable } from './fail-closed.ts';
import { actualValue } from './failed-text.ts';

/**
 * Result of validating arguments against a Standard Schema. `code`: the deny code of a refusal
 * (see `refusingSchema`); without it a failure denies `INVALID_ARGS`.
 */
export type ValidationResult =
  | { ok: true; value: unknown }
  | {
      ok: false;
      problem: string;
      code?: DenyCode;
      /** The schema's issues as failed conditions (`args.amount`, what it said), the first five. */
      failed?: readonly FailedCondition[];
    };

/** Brands the issues of `refusingSchema`; module-local, so no schema from outside can carry it. */
const REFUSAL: unique symbol = Symbol('toolgate.refusal');

/**
 * A schema that refuses every call with `code` instead of `INVALID_ARGS`: the call is denied and
 * recorded like any other, before the policy sees it (the MCP gate's tools that the server does
 * not list deny `UNKNOWN_TOOL`).
 */
export function refusingSchema(code: DenyCode, message: string): StandardSchemaV1 {
  const issue = Object.freeze({ message, [REFUSAL]: code });
  return {
    '~standard': { version: 1, vendor: 'toolgate', validate: () => ({ issues: [issue] }) },
  };
}

/**
 * Validates through any Standard Schema. A schema that throws, or returns something that is
 * neither a success nor a failure, is a failure: validation never lets a value through by accident.
 */
export function validateArgs(
  schema: StandardSchemaV1,
  value: unknown,
): ValidationResult | Promise<ValidationResult> {
  let result: unknown;
  try {
    result = schema['~standard'].validate(value);
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (settled) => interpret(settled, value),
        (error: unknown) => ({
          ok: false as const,
          problem: `the input schema threw: ${errorParts(error).message}`,
        }),
      );
    }
  } catch (error) {
    return { ok: false, problem: `the input schema threw: ${errorParts(error).message}` };
  }
  return interpret(result, value);
}

function interpret(result: unknown, input: unknown): ValidationResult {
  if (typeof result !== 'object' || result === null)
    return { ok: false, problem: 'the input schema returned no result' };
  const { issues, value } = result as { issues?: ReadonlyArray<StandardSchemaV1.Issue>; value?: unknown };
  if (issues !== undefined) {
    if (!Array.isArray(issues) || issues.length === 0)
      return { ok: false, problem: 'the input schema failed' };
    // The issues are the schema's objects: one that cannot be read (a path that is not a list, a
    // throwing getter) still fails the validation, in words of our own.
    try {
      const shown = issues.slice(0, 5);
      const problem = shown.map(formatIssue).join('; ');
      const code = (issues[0] as { [REFUSAL]?: DenyCode })[REFUSAL];
      if (code !== undefined) return { ok: false, problem, code };
      return { ok: false, problem, failed: shown.map((issue) => issueFailed(issue, input)) };
    } catch (error) {
      return {
        ok: false,
        problem: `the input schema failed with unreadable issues: ${errorParts(error).message}`,
      };
    }
  }
  if (!('value' in result)) return { ok: false, problem: 'the input schema returned no value' };
  return { ok: true, value };
}

/** What the input schema expects, as a failed condition says it. */
const SCHEMA_EXPECTS = 'what the input schema accepts';

/**
 * A schema issue as a failed condition: `args` and the issue's path, what the schema said, and
 * the value found there (read from the frozen snapshot the schema was given, never from the
 * caller's object).
 */
function issueFailed(issue: StandardSchemaV1.Issue, input: unknown): FailedCondition {
  let path = 'args';
  let value: unknown = input;
  let found = true;
  for (const raw of issue.path ?? []) {
    const key: unknown = typeof raw === 'object' && raw !== null ? (raw as { key: unknown }).key : raw;
    if (typeof key === 'number') path += `[${key}]`;
    else
      path += /^[A-Za-z_$][\w$]*$/.test(String(key)) ? `.${String(key)}` : `[${JSON.stringify(String(key))}]`;
    if (found && typeof value === 'object' && value !== null && Object.hasOwn(value, key as PropertyKey))
      value = (value as Record<PropertyKey, unknown>)[key as PropertyKey];
    else found = false;
  }
  const failed: { -readonly [K in keyof FailedCondition]: FailedCondition[K] } = {
    path,
    expected: SCHEMA_EXPECTS,
    problem: `fails the input schema: ${String(issue.message).slice(0, 200)}`,
  };
  if (found && value !== undefined) failed.actual = actualValue(value);
  return failed;
}

function formatIssue(issue: StandardSchemaV1.Issue): string {
  const path = (issue.path ?? [])
    .map((segment) => String(typeof segment === 'object' && segment !== null ? segment.key : segment))
    .join('.');
  const message = String(issue.message).slice(0, 200);
  return path ? `${path}: ${message}` : message;
}
