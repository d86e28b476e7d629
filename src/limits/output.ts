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
 * Applies `maxRows` and `maxBytes` to a tool's result. The rows of a result (see `rowsOf`) are
 * the result itself when it is an array; the `rows` array of an object that has one as an own
 * data property, whatever its prototype (node-postgres' `Result`, `{ rows, rowCount }` of most
 * database clients); or the first element of a mysql2 `[rows, fields]` tuple. `maxRows` keeps
 * the first rows. `maxBytes` bounds the JSON serialization: strings are cut at a character
 * boundary, rows are dropped from the end; a result that still does not fit (or is not JSON, or a
 * cap so small that not even `""` fits) is withheld. The tool's own value is never mutated, and
 * never handed back when a cap applies to it: with `maxBytes` the result is the JSON that was
 * measured, read back as data; with `maxRows` a result with rows is a copy (an object with rows
 * becomes a plain object with its own data properties), so nothing the tool still holds can grow
 * it past what was checked.
 */
export function capOutput(value: unknown, obligations: Obligations): CappedOutput {
  const { maxRows, maxBytes } = obligations;
  let current = value;
  if (maxBytes !== undefined && typeof value !== 'string') {
    // Measured once: what goes back is the JSON that was measured, read back as data. The tool's
    // own value (a toJSON or a getter answering bigger the second time, rows pushed later) can
    // never make the result bigger than what was checked.
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch {
      text = undefined;
    }
    if (text === undefined)
      return {
        ok: false,
        reason: 'the result is not JSON data, so its maxBytes obligation cannot be checked; it was withheld',
        cut: { bytes: { from: -1, to: 0 } },
      };
    current = JSON.parse(text);
  }
  let rowsCut: { from: number; to: number } | undefined;
  const shape = maxRows === undefined ? undefined : rowsOf(current);
  if (maxRows !== undefined && shape === undefined && uncountable(current))
    return {
      ok: false,
      reason:
        'the rows of the result are an iterator, a stream or a promise, which cannot be counted without reading them, so its maxRows obligation cannot be applied; it was withheld',
      cut: { rows: { from: -1, to: 0 } },
    };
  const count = shape?.rows.length ?? 0;
  if (maxRows !== undefined && shape !== undefined && count > maxRows) {
    current = shape.withRows(firstRows(shape.rows, maxRows));
    rowsCut = { from: count, to: maxRows };
  } else if (shape !== undefined && current === value) {
    // Within the cap now: a copy of the rows, so the tool cannot add rows after the check.
    current = shape.withRows(firstRows(shape.rows, count));
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
  // A string is cut to fit; `""` alone is 2 bytes, so under a cap of 0 or 1 nothing fits.
  if (typeof current === 'string' && maxBytes >= 2) {
    const cutText = cutString(current, maxBytes - 2);
    const bytes = { from: size ?? 0, to: byteLength(cutText) ?? 0 };
    return { ok: true, value: cutText, cut: rowsCut === undefined ? { bytes } : { rows: rowsCut, bytes } };
  }
  const currentShape = typeof current === 'string' ? undefined : rowsOf(current);
  if (size !== undefined && currentShape !== undefined) {
    const currentRows = currentShape.rows;
    // Binary search for the most rows that fit.
    let low = 0;
    let high = currentRows.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      const bytes = byteLength(currentShape.withRows(firstRows(currentRows, mid)));
      if (bytes !== undefined && bytes <= maxBytes) low = mid;
      else high = mid - 1;
    }
    const fitted = currentShape.withRows(firstRows(currentRows, low));
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

/** The rows of a result, and how to build a copy of the result with other rows. */
interface RowsShape {
  readonly rows: readonly unknown[];
  withRows(rows: unknown[]): unknown;
}

/**
 * The rows of a result, read as data from property descriptors, so no getter runs; a Proxy's
 * trap that throws propagates, and the caller withholds the result.
 * - an array: its items, unless it is a mysql2 `[rows, fields]` tuple (below);
 * - a mysql2 tuple: an array of exactly two arrays whose second is a non-empty list of field
 *   descriptions (objects with an own string `name`): the first array's items; the copy keeps
 *   `fields`;
 * - any other object (a plain object or a class instance such as node-postgres' `Result`) with an
 *   own data property `rows` that is an array: those; the copy is a plain object with the
 *   original's own enumerable data properties (accessors are left out, never run).
 */
function rowsOf(value: unknown): RowsShape | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    if (isMysqlTuple(value)) {
      const [rows, fields] = value as [unknown[], unknown[]];
      return { rows, withRows: (kept) => [kept, fields] };
    }
    return { rows: value, withRows: (kept) => kept };
  }
  const rows = rowsProperty(value);
  if (!Array.isArray(rows)) return undefined;
  return { rows, withRows: (kept) => copyWithRows(value, kept) };
}

/**
 * The `rows` of an object, own or inherited, read from its property descriptor. Behind a getter
 * it cannot be read without running code, and a cap cannot be applied to what was not read:
 * that throws, and the result is withheld (src/core/steps/execute.ts).
 */
function rowsProperty(value: object): unknown {
  for (
    let at: object | null = value;
    at !== null && at !== Object.prototype;
    at = Object.getPrototypeOf(at)
  ) {
    const descriptor = Object.getOwnPropertyDescriptor(at, 'rows');
    if (descriptor === undefined) continue;
    if (!('value' in descriptor)) throw new TypeError('toolgate: the rows of the result are behind a getter');
    return descriptor.value;
  }
  return undefined;
}

/**
 * The first `count` rows in a new plain array. Never `slice`: it builds its copy with the rows'
 * own `Symbol.species`, so an Array subclass would choose what comes back (all its rows).
 */
function firstRows(rows: readonly unknown[], count: number): unknown[] {
  const kept: unknown[] = [];
  for (let index = 0; index < count; index++) kept.push(rows[index]);
  return kept;
}

/**
 * Whether the result, or its `rows`, holds rows that cannot be counted without reading them: an
 * iterator or iterable other than an array (a generator, a Set or Map, a stream, an async
 * iterable) or a promise. A string, a typed array or a Buffer is data, not rows. Checked with
 * `in`, so no getter runs.
 */
function uncountable(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (rowsLike(value)) return true;
  const rows = rowsProperty(value);
  return typeof rows === 'object' && rows !== null && (rowsLike(rows) || 'then' in rows);
}

function rowsLike(value: object): boolean {
  return (
    !Array.isArray(value) &&
    !ArrayBuffer.isView(value) &&
    !(value instanceof String) &&
    (Symbol.iterator in value || Symbol.asyncIterator in value)
  );
}

function isMysqlTuple(value: readonly unknown[]): boolean {
  if (value.length !== 2) return false;
  const rows = ownData(value, '0');
  const fields = ownData(value, '1');
  if (!Array.isArray(rows) || !Array.isArray(fields) || fields.length === 0) return false;
  for (let index = 0; index < fields.length; index++) {
    const field = ownData(fields, String(index));
    if (typeof field !== 'object' || field === null || typeof ownData(field, 'name') !== 'string')
      return false;
  }
  return true;
}

/** An own data property's value, or undefined (missing, inherited, or an accessor, never run). */
function ownData(value: object, key: string): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(value, key);
  return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined;
}

/** A plain copy of `value`'s own enumerable data properties, with `rows` in place of its rows. */
function copyWithRows(value: object, rows: unknown[]): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, key);
    // Defined, not assigned: an own `__proto__` key stays a key.
    if (descriptor !== undefined && 'value' in descriptor)
      Object.defineProperty(copy, key, {
        value: descriptor.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  Object.defineProperty(copy, 'rows', { value: rows, enumerable: true, writable: true, configurable: true });
  return copy;
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
