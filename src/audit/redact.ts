import { ConfigurationError } from '../errors.ts';
import { type CustomDetector, compileDetectors, type SecretDetectorName } from './detectors.ts';
import { secretName } from './sensitive-names.ts';

export { luhnValid } from './detectors.ts';
export type { CustomDetector, SecretDetectorName };

/** How audit records and approval prompts are redacted. */
export interface RedactOptions {
  /**
   * Paths whose values are replaced wholesale: `args.password`, `output.token`, `attributes.apiKey`.
   * `*` matches one segment (`*.apiKey` is `apiKey` at the top of args, output or attributes), `**`
   * any number of segments (`**.apiKey` is `apiKey` at any depth).
   */
  readonly paths?: readonly string[];
  /**
   * Built-in detectors to run on every string (`true`: all of them), plus custom ones.
   * @default true
   */
  readonly detectors?: boolean | readonly (SecretDetectorName | CustomDetector)[];
  /** What a redacted value becomes. @default '[REDACTED]' */
  readonly replacement?: string;
}

/** The sections of a record that redaction paths are rooted at. */
export type RedactRoot = 'args' | 'output' | 'attributes';

/** Redacts JSON data. Every method returns `undefined` when redaction failed (callers fail closed). */
export interface Redactor {
  /** Whether redaction does anything at all. */
  readonly active: boolean;
  /** Returns `value` itself when nothing matched, else a redacted frozen copy; `undefined` on failure. */
  redact(value: unknown, root: RedactRoot, extraPaths?: readonly string[]): unknown;
  /** Redacts secrets inside free text (error messages, reasons); `undefined` on failure. */
  redactText(text: string): string | undefined;
  /**
   * Redacts any JSON-like value by key names and detectors, without `paths` (which are rooted at
   * args, output and attributes): decisions, denials. `undefined` on failure.
   */
  redactValue(value: unknown): unknown;
}

type Matcher = (segments: readonly string[]) => boolean;

function compilePath(path: string): Matcher {
  if (typeof path !== 'string' || path.length === 0 || path.length > 500)
    throw new ConfigurationError(`redact path ${JSON.stringify(path)} must be a non-empty string`);
  const parts = path.split('.');
  if (parts.some((part) => part.length === 0))
    throw new ConfigurationError(`redact path ${JSON.stringify(path)} has an empty segment`);
  const match = (segments: readonly string[], i: number, j: number): boolean => {
    if (i === parts.length) return j === segments.length;
    const part = parts[i]!;
    if (part === '**') {
      for (let k = j; k <= segments.length; k++) if (match(segments, i + 1, k)) return true;
      return false;
    }
    if (j === segments.length) return false;
    return (part === '*' || part === segments[j]) && match(segments, i + 1, j + 1);
  };
  return (segments) => match(segments, 0, 0);
}

/**
 * Builds a redactor. Invalid options throw a ConfigurationError here.
 *
 * @example
 * const redactor = createRedactor({ paths: ['args.password', '*.apiKey'] });
 * redactor.redact({ password: 'hunter2', q: 'x' }, 'args'); // { password: '[REDACTED]', q: 'x' }
 */
export function createRedactor(options: RedactOptions | false | undefined): Redactor {
  if (options === false)
    return {
      active: false,
      redact: (value) => value,
      redactText: (text) => text,
      redactValue: (value) => value,
    };
  const config = options ?? {};
  if (typeof config !== 'object' || config === null)
    throw new ConfigurationError('audit.redact must be an object or false');
  const replacement = config.replacement ?? '[REDACTED]';
  if (typeof replacement !== 'string') throw new ConfigurationError('redact.replacement must be a string');
  const pathMatchers = (config.paths ?? []).map(compilePath);
  const detectors = compileDetectors(config.detectors, replacement);
  const keys = detectors.keys;
  const scanText = detectors.scansText;
  const redactText = detectors.text;
  const active = pathMatchers.length > 0 || keys || scanText;

  // Key names repeat across calls: whether each one is secret, and how it is shown (a key can
  // itself hold a secret), is worked out once per redactor (bounded).
  const keyCache = new Map<string, KeyView>();
  const viewOf = (key: string): KeyView => {
    let view = keyCache.get(key);
    if (view === undefined) {
      view = { secret: keys && secretName(key), shown: scanText ? redactText(key) : key };
      if (keyCache.size >= 10_000) keyCache.clear();
      keyCache.set(key, view);
    }
    return view;
  };

  // Walks the value; returns the same reference when nothing changed, so the common case
  // allocates nothing. The path is kept only when there are path matchers to test it.
  const walk = (value: unknown, path: string[], matchers: readonly Matcher[], depth: number): unknown => {
    if (depth > 200) throw new RangeError('value nested too deeply to redact');
    if (typeof value === 'string') return scanText ? redactText(value) : value;
    if (typeof value !== 'object' || value === null) return value;
    const tracked = matchers.length > 0;
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item = value[i] as unknown;
        let next: unknown;
        if (tracked) {
          path.push(String(i));
          next = matchesPath(path, matchers) ? replacement : walk(item, path, matchers, depth + 1);
          path.pop();
        } else next = walk(item, path, matchers, depth + 1);
        if (next !== item) {
          copy ??= value.slice();
          copy[i] = next;
        }
      }
      return copy === undefined ? value : Object.freeze(copy);
    }
    let copy: Record<string, unknown> | undefined;
    const record = value as Record<string, unknown>;
    const recordKeys = Object.keys(record);
    for (let i = 0; i < recordKeys.length; i++) {
      const key = recordKeys[i]!;
      const item = record[key];
      const view = viewOf(key);
      if (tracked) path.push(key);
      // A secret name hides its whole value, whatever it is (`credentials: { … }` too).
      const next =
        (view.secret && item !== null && item !== undefined) || (tracked && matchesPath(path, matchers))
          ? replacement
          : walk(item, path, matchers, depth + 1);
      if (tracked) path.pop();
      if (copy === undefined && next === item && view.shown === key) continue;
      if (copy === undefined) {
        copy = {};
        for (let j = 0; j < i; j++)
          Object.defineProperty(copy, recordKeys[j]!, describe(record[recordKeys[j]!]));
      }
      Object.defineProperty(copy, freeKey(copy, view.shown), describe(next));
    }
    return copy === undefined ? value : Object.freeze(copy);
  };
  const matchesPath = (path: readonly string[], matchers: readonly Matcher[]): boolean => {
    for (const matcher of matchers) if (matcher(path)) return true;
    return false;
  };

  return {
    active,
    redact(value, root, extraPaths) {
      const extra = extraPaths === undefined || extraPaths.length === 0 ? [] : extraPaths.map(compilePath);
      if (!active && extra.length === 0) return value;
      try {
        return walk(value, [root], extra.length === 0 ? pathMatchers : [...pathMatchers, ...extra], 0);
      } catch {
        return undefined;
      }
    },
    redactText(text) {
      if (!scanText) return text;
      try {
        return redactText(text);
      } catch {
        return undefined;
      }
    },
    redactValue(value) {
      if (!keys && !scanText) return value;
      try {
        return walk(value, [], [], 0);
      } catch {
        return undefined;
      }
    },
  };
}

/** What a key means to redaction: whether its value is secret, and the key as shown. */
interface KeyView {
  readonly secret: boolean;
  readonly shown: string;
}

/** `key`, or `key~1`, `key~2`… when a redacted key already took that name in `record`. */
function freeKey(record: object, key: string): string {
  if (!Object.hasOwn(record, key)) return key;
  let n = 1;
  while (Object.hasOwn(record, `${key}~${n}`)) n += 1;
  return `${key}~${n}`;
}

// Own data properties only, so a `__proto__` key stays data.
function describe(value: unknown): PropertyDescriptor {
  return { value, enumerable: true, writable: true, configurable: true };
}

/**
 * Redacts arguments the way the audit trail does, for showing them to a human (approval prompts).
 * Returns `undefined` when redaction failed: show nothing then, and deny.
 *
 * @example
 * redactArgs({ password: 'x', q: 'ok' }) // { password: '[REDACTED]', q: 'ok' }
 */
export function redactArgs<T>(args: T, options?: RedactOptions | false): T | undefined {
  return createRedactor(options).redact(args, 'args') as T | undefined;
}

/** Checks the paths of a `redact` obligation; returns a problem, or `undefined` when they are valid. */
export function redactPathsProblem(paths: unknown): string | undefined {
  if (!Array.isArray(paths)) return 'obligation redact must be a list of paths';
  for (const path of paths as unknown[]) {
    try {
      compilePath(path as string);
    } catch {
      return `obligation redact has an invalid path ${JSON.stringify(path)}`;
    }
  }
  return undefined;
}
