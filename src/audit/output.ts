import { ConfigurationError } from '../errors.ts';
import type { JsonValue } from '../types.ts';
import type { Redactor } from './redact.ts';

/** Output capture in result records: off by default (size and shape only). */
export interface OutputCaptureOptions {
  /** Record the tool's output (redacted) in `result` events. @default false */
  readonly capture?: boolean;
  /** Largest captured output, in UTF-8 bytes of its JSON; larger outputs are cut. @default 4096 */
  readonly maxBytes?: number;
}

/** Normalized capture settings. */
export interface OutputCapture {
  readonly capture: boolean;
  readonly maxBytes: number;
}

/** Validates the `audit.output` option. */
export function normalizeCapture(options: OutputCaptureOptions | undefined): OutputCapture {
  if (options === undefined) return { capture: false, maxBytes: 4096 };
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('audit.output must be an object');
  const maxBytes = options.maxBytes ?? 4096;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0)
    throw new ConfigurationError('audit.output.maxBytes must be a non-negative integer');
  if (options.capture !== undefined && typeof options.capture !== 'boolean')
    throw new ConfigurationError('audit.output.capture must be a boolean');
  return { capture: options.capture === true, maxBytes };
}

/** The shape of an output: its JSON type and, for arrays, objects and strings, its size. */
export interface OutputShape {
  readonly type: 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null' | 'undefined' | 'other';
  /** Items of an array, keys of an object, characters of a string. */
  readonly size?: number;
}

/** Cheap shape of a value (no serialization). */
export function outputShape(output: unknown): OutputShape {
  if (output === null) return { type: 'null' };
  if (Array.isArray(output)) return { type: 'array', size: output.length };
  switch (typeof output) {
    case 'string':
      return { type: 'string', size: output.length };
    case 'number':
      return { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'undefined':
      return { type: 'undefined' };
    case 'object':
      try {
        return { type: 'object', size: Object.keys(output).length };
      } catch {
        return { type: 'other' };
      }
    default:
      return { type: 'other' };
  }
}

/** The fields of a `result` record that describe the tool's output (see `ResultEvent`). */
export interface ResultOutputFields {
  outputShape?: OutputShape;
  outputBytes?: number;
  output?: JsonValue;
  outputTruncated?: boolean;
  outputRedaction?: 'failed';
}

/**
 * Adds `outputShape`, a lazy `outputBytes` (measured only if a sink reads it) and, with capture on,
 * the redacted `output` (cut to `maxBytes`) to a result event. When redaction of the output fails
 * nothing of it is recorded: `outputRedaction: 'failed'`.
 */
export function describeOutput(
  event: ResultOutputFields,
  output: unknown,
  redactor: Redactor,
  capture: OutputCapture,
  redactPaths: readonly string[] | undefined,
): void {
  event.outputShape = outputShape(output);
  if (output === undefined) return;
  // Scalars are measured now (cheap, and a data property is cheaper than an accessor); objects,
  // arrays and long strings only if a sink reads the size.
  const kind = typeof output;
  if (
    output === null ||
    kind === 'number' ||
    kind === 'boolean' ||
    (kind === 'string' && (output as string).length <= 256)
  ) {
    const bytes = measureBytes(output);
    if (bytes !== undefined) event.outputBytes = bytes;
  } else {
    defineLazyBytes(event, output);
  }
  if (!capture.capture) return;
  captureOutput(event, output, redactor, capture, redactPaths);
}

function defineLazyBytes(event: ResultOutputFields, output: unknown): void {
  let bytes: number | undefined | null = null;
  Object.defineProperty(event, 'outputBytes', {
    enumerable: true,
    configurable: true,
    get() {
      if (bytes === null) bytes = measureBytes(output);
      return bytes;
    },
  });
}

function captureOutput(
  event: ResultOutputFields,
  output: unknown,
  redactor: Redactor,
  capture: OutputCapture,
  redactPaths: readonly string[] | undefined,
): void {
  let data: unknown;
  try {
    const text = JSON.stringify(output);
    if (text === undefined) return;
    data = JSON.parse(text);
  } catch {
    event.outputRedaction = 'failed';
    return;
  }
  const paths = redactPaths?.map(outputPath);
  const redacted = redactor.redact(data, 'output', paths);
  if (redacted === undefined) {
    event.outputRedaction = 'failed';
    return;
  }
  const text = JSON.stringify(redacted);
  const size = Buffer.byteLength(text, 'utf8');
  if (size <= capture.maxBytes) {
    event.output = redacted as JsonValue;
  } else {
    // Cut on a character boundary; the text was redacted before it was cut.
    event.output = Buffer.from(text, 'utf8')
      .subarray(0, capture.maxBytes)
      .toString('utf8')
      .replace(/\uFFFD$/, '');
    event.outputTruncated = true;
  }
}

/** Obligation paths are relative to the result unless they name a root. */
export function outputPath(path: string): string {
  return /^(?:output|args|attributes|\*|\*\*)(?:\.|$)/.test(path) ? path : `output.${path}`;
}

function measureBytes(output: unknown): number | undefined {
  // JSON of a finite number, a boolean or null is ASCII: its length is its size in bytes.
  if (typeof output === 'number') return Number.isFinite(output) ? String(output).length : 4;
  if (typeof output === 'boolean') return output ? 4 : 5;
  if (output === null) return 4;
  try {
    const text = JSON.stringify(output);
    return text === undefined ? undefined : Buffer.byteLength(text, 'utf8');
  } catch {
    return undefined;
  }
}
