import type { StandardSchemaV1 } from '../standard-schema.ts';
import type { DenyCode } from '../types.ts';
import { errorParts } from './describe-error.ts';
import { isThenable } from './fail-closed.ts';

/**
 * Result of validating arguments against a Standard Schema. `code`: the deny code of a refusal
 * (see `refusingSchema`); without it a failure denies `INVALID_ARGS`.
 */
export type ValidationResult = { ok: true; value: unknown } | { ok: false; problem: string; code?: DenyCode };

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
      return Promise.resolve(result).then(interpret, (error: unknown) => ({
        ok: false as const,
        problem: `the input schema threw: ${errorParts(error).message}`,
      }));
    }
  } catch (error) {
    return { ok: false, problem: `the input schema threw: ${errorParts(error).message}` };
  }
  return interpret(result);
}

function interpret(result: unknown): ValidationResult {
  if (typeof result !== 'object' || result === null)
    return { ok: false, problem: 'the input schema returned no result' };
  const { issues, value } = result as { issues?: ReadonlyArray<StandardSchemaV1.Issue>; value?: unknown };
  if (issues !== undefined) {
    if (!Array.isArray(issues) || issues.length === 0)
      return { ok: false, problem: 'the input schema failed' };
    const problem = issues.slice(0, 5).map(formatIssue).join('; ');
    const code = (issues[0] as { [REFUSAL]?: DenyCode })[REFUSAL];
    return code === undefined ? { ok: false, problem } : { ok: false, problem, code };
  }
  if (!('value' in result)) return { ok: false, problem: 'the input schema returned no value' };
  return { ok: true, value };
}

function formatIssue(issue: StandardSchemaV1.Issue): string {
  const path = (issue.path ?? [])
    .map((segment) => String(typeof segment === 'object' && segment !== null ? segment.key : segment))
    .join('.');
  const message = String(issue.message).slice(0, 200);
  return path ? `${path}: ${message}` : message;
}
