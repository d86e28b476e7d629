import type { FailedCondition, JsonValue } from '../types.ts';

// How a failed condition reads, for the developer (error messages) and, with `denialDetail:
// 'full'`, for the model. Kept apart from the policy so errors and adapters can use it.

/** Longest text of a value shown in a failed condition; longer values are cut. */
const MAX_SHOWN = 120;

/**
 * One failed condition as a sentence: `context.agent is missing`, `args.sql reads table customers,
 * outside the scope`, `args.amount is 500, expected lte 100`.
 */
export function failedText(failed: FailedCondition): string {
  if (failed.problem !== undefined) return `${failed.path} ${failed.problem}`;
  if (!Object.hasOwn(failed, 'actual')) return `${failed.path} is missing, expected ${failed.expected}`;
  return `${failed.path} is ${shownValue(failed.actual as JsonValue)}, expected ${failed.expected}`;
}

/** The failed conditions as one line, each prefixed with its rule: `refund-small: args.amount is 500, expected lte 100`. */
export function failedLine(failed: readonly FailedCondition[]): string {
  return failed
    .map((entry) => (entry.rule === undefined ? failedText(entry) : `${entry.rule}: ${failedText(entry)}`))
    .join('; ');
}

/** A value as short JSON text. */
export function shownValue(value: JsonValue): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/**
 * A value read from a request as it goes into a failed condition: JSON primitives as they are,
 * long strings cut, objects and arrays kept only when small (else described by their size).
 */
export function actualValue(value: unknown): JsonValue {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string') return value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
  if (typeof value === 'object') {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch {
      text = undefined;
    }
    if (text !== undefined && text.length <= MAX_SHOWN) return JSON.parse(text) as JsonValue;
    return Array.isArray(value) ? `(an array of ${value.length})` : '(an object)';
  }
  return `(${typeof value})`;
}
