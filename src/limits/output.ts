import type { Obligations } from '../types.ts';

/** What the output caps cut from a result, recorded on the result event as `outputCut`. */
export interface OutputCut {
  /** Array items before and after `maxRows` / `maxBytes`. */
  readonly rows?: { readonly from: number; readonly to: number };
  /** Serialized UTF-8 bytes before and after `maxBytes`. */
  readonly bytes?: { readonly from: number; readonly to: number };
}

/** The capped result, what was cut, or why it had to be withheld. */
export type CappedOutput =
  | { readonly ok: true; readonly value: unknown; readonly cut?: OutputCut }
  | { readonly ok: false; readonly reason: string; readonly cut: OutputCut };

/** Whether a decision's obligations ask for output caps at all (the hot path skips the rest). */
export function hasOutputCaps(obligations: Obligations | undefined): boolean {
  return (
    obligations !== undefined && (obligations.maxRows !== undefined || obligations.maxBytes !== undefined)
  );
}

/** Checks the cap obligations; a problem string denies the call before it runs. */
export function outputCapsProblem(obligations: Obligations | undefined): string | undefined {
  if (obligations === undefined) return undefined;
  for (const field of ['maxRows', 'maxBytes'] as const) {
    const value = obligations[field];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
      return `obligation ${field} must be a non-negative integer`;
  }
  return undefined;
}

/**
 * Applies `maxRows` and `maxBytes` to a tool's result. The rows of a result are the result itself
 * when it is an array, or its `rows` property when it is a plain object with an array there (the
 * shape of most database clients). `maxRows` keeps the first rows. `maxBytes` bounds the JSON
 * serialization: strings are cut at a character boundary, rows are dropped from the end; a result
 * that still does not fit (or is not JSON) is withheld. The tool's own value is never mutated.
 */
export function capOutput(value: unknown, obligations: Obligations): CappedOutput {
  const { maxRows, maxBytes } = obligations;
  let current = value;
  let rowsCut: { from: number; to: number } | undefined;
  const rows = rowsOf(current);
  if (maxRows !== undefined && rows !== undefined && rows.length > maxRows) {
    current = withRows(current, rows.slice(0, maxRows));
    rowsCut = { from: rows.length, to: maxRows };
  }
  if (maxBytes === undefined)
    return rowsCut === undefined
      ? { ok: true, value: current }
      : { ok: true, value: current, cut: { rows: rowsCut } };

  const size = byteLength(current);
  if (size !== undefined && size <= maxBytes)
    return rowsCut === undefined
      ? { ok: true, value: current }
      : { ok: true, value: current, cut: { rows: rowsCut } };
  if (typeof current === 'string') {
    const cutText = cutString(current, maxBytes - 2);
    const bytes = { from: size ?? 0, to: byteLength(cutText) ?? 0 };
    return { ok: true, value: cutText, cut: rowsCut === undefined ? { bytes } : { rows: rowsCut, bytes } };
  }
  const currentRows = rowsOf(current);
  if (size !== undefined && currentRows !== undefined) {
    // Binary search for the most rows that fit.
    let low = 0;
    let high = currentRows.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      const bytes = byteLength(withRows(current, currentRows.slice(0, mid)));
      if (bytes !== undefined && bytes <= maxBytes) low = mid;
      else high = mid - 1;
    }
    const fitted = withRows(current, currentRows.slice(0, low));
    const fittedBytes = byteLength(fitted);
    if (fittedBytes !== undefined && fittedBytes <= maxBytes) {
      const from = rowsCut?.from ?? currentRows.length;
      return {
        ok: true,
        value: fitted,
        cut: { rows: { from, to: low }, bytes: { from: size, to: fittedBytes } },
      };
    }
  }
  const cut: OutputCut =
    rowsCut === undefined
      ? { bytes: { from: size ?? -1, to: 0 } }
      : { rows: rowsCut, bytes: { from: size ?? -1, to: 0 } };
  return {
    ok: false,
    reason:
      size === undefined
        ? 'the result is not JSON data, so its maxBytes obligation cannot be checked; it was withheld'
        : `the result is ${size} bytes, over the maxBytes obligation of ${maxBytes}, and cannot be cut; it was withheld`,
    cut,
  };
}

function rowsOf(value: unknown): readonly unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (isPlainObject(value) && Array.isArray(value.rows)) return value.rows as unknown[];
  return undefined;
}

function withRows(value: unknown, rows: unknown[]): unknown {
  return Array.isArray(value) ? rows : { ...(value as Record<string, unknown>), rows };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function byteLength(value: unknown): number | undefined {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : Buffer.byteLength(text, 'utf8');
  } catch {
    return undefined;
  }
}

/** The longest prefix of `text` whose JSON form fits in `budget` bytes of content, cut between characters. */
function cutString(text: string, budget: number): string {
  if (budget <= 0) return '';
  let low = 0;
  let high = text.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    const bytes = byteLength(safePrefix(text, mid)) ?? Number.POSITIVE_INFINITY;
    if (bytes - 2 <= budget) low = mid;
    else high = mid - 1;
  }
  return safePrefix(text, low);
}

/** A prefix that never ends inside a surrogate pair. */
function safePrefix(text: string, length: number): string {
  const code = text.charCodeAt(length - 1);
  return code >= 0xd800 && code <= 0xdbff ? text.slice(0, length - 1) : text.slice(0, length);
}
