import { ConfigurationError } from '../errors.ts';

/** Names of the built-in secret detectors. */
export type SecretDetectorName =
  | 'secret-keys'
  | 'bearer'
  | 'aws'
  | 'private-key'
  | 'jwt'
  | 'api-key'
  | 'card-number';

/** A custom detector: a pattern whose matches are replaced, or a function that rewrites a string. */
export type CustomDetector =
  | { readonly name: string; readonly pattern: RegExp }
  | { readonly name: string; readonly replace: (text: string) => string };

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
}

const SENSITIVE_KEY =
  /^(?:password|passwd|pwd|passphrase|secret|client_?secret|token|access_?token|refresh_?token|id_?token|api_?key|apikey|x-api-key|auth|authorization|cookie|set-cookie|private_?key|session_?token|credentials?)$/i;

const BUILT_IN: Record<Exclude<SecretDetectorName, 'secret-keys' | 'card-number'>, RegExp> = {
  bearer: /\b(?:bearer|basic|token)\s+[A-Za-z0-9._~+/-]{8,}=*/gi,
  aws: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b|\baws_?secret_?access_?key\b["']?\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}/gi,
  'private-key':
    /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
  jwt: /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
  'api-key':
    /\b(?:sk|rk|pk)[-_](?:live|test|proj|ant(?:-api\d+)?)?[-_]?[A-Za-z0-9_-]{16,}|\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{30,}|\bxox[abposr]-[A-Za-z0-9-]{10,}|\bAIza[0-9A-Za-z_-]{35}|\bglpat-[A-Za-z0-9_-]{20,}|\bnpm_[A-Za-z0-9]{36}/g,
};
const CARD_CANDIDATE = /\b\d(?:[ -]?\d){12,18}\b/g;
/** A cheap pre-check: strings without any of these shapes skip the detectors entirely. */
const QUICK =
  /bearer|basic|token|AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|aws_?secret|PRIVATE KEY|eyJ|sk[-_]|rk[-_]|pk[-_]|gh[pousr]_|github_pat_|xox|AIza|glpat-|npm_|\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d[ -]?\d/i;

const ALL_DETECTORS: readonly SecretDetectorName[] = [
  'secret-keys',
  'bearer',
  'aws',
  'private-key',
  'jwt',
  'api-key',
  'card-number',
];

// Keys repeat across calls, so the verdict per key name is cached (bounded).
const keyVerdicts = new Map<string, boolean>();
function sensitiveKey(key: string): boolean {
  let verdict = keyVerdicts.get(key);
  if (verdict === undefined) {
    verdict = key.length <= 64 && SENSITIVE_KEY.test(key);
    if (keyVerdicts.size >= 10_000) keyVerdicts.clear();
    keyVerdicts.set(key, verdict);
  }
  return verdict;
}

/** Luhn checksum over the digits of a candidate card number. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length >= 13 && sum % 10 === 0;
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
  if (options === false) return { active: false, redact: (value) => value, redactText: (text) => text };
  const config = options ?? {};
  if (typeof config !== 'object' || config === null)
    throw new ConfigurationError('audit.redact must be an object or false');
  const replacement = config.replacement ?? '[REDACTED]';
  if (typeof replacement !== 'string') throw new ConfigurationError('redact.replacement must be a string');
  const pathMatchers = (config.paths ?? []).map(compilePath);
  const chosen =
    config.detectors === undefined || config.detectors === true ? ALL_DETECTORS : config.detectors;
  const names = new Set<SecretDetectorName>();
  const patterns: RegExp[] = [];
  const custom: ((text: string) => string)[] = [];
  if (chosen !== false) {
    if (!Array.isArray(chosen)) throw new ConfigurationError('redact.detectors must be a boolean or a list');
    for (const entry of chosen as readonly (SecretDetectorName | CustomDetector)[]) {
      if (typeof entry === 'string') {
        if (!(ALL_DETECTORS as readonly string[]).includes(entry))
          throw new ConfigurationError(`unknown redact detector ${JSON.stringify(entry)}`);
        names.add(entry);
        if (entry !== 'secret-keys' && entry !== 'card-number') patterns.push(BUILT_IN[entry]);
      } else if (typeof entry === 'object' && entry !== null && typeof entry.name === 'string') {
        if ('pattern' in entry && entry.pattern instanceof RegExp) {
          const flags = entry.pattern.flags.includes('g') ? entry.pattern.flags : `${entry.pattern.flags}g`;
          const pattern = new RegExp(entry.pattern.source, flags);
          custom.push((text) => text.replace(pattern, replacement));
        } else if ('replace' in entry && typeof entry.replace === 'function') {
          const replace = entry.replace;
          custom.push((text) => {
            const out = replace(text);
            if (typeof out !== 'string')
              throw new TypeError(`detector ${entry.name} did not return a string`);
            return out;
          });
        } else {
          throw new ConfigurationError(`redact detector ${entry.name} needs a pattern or a replace function`);
        }
      } else {
        throw new ConfigurationError('redact.detectors entries must be names or { name, pattern | replace }');
      }
    }
  }
  const keys = names.has('secret-keys');
  const cards = names.has('card-number');
  const scanText = patterns.length > 0 || cards || custom.length > 0;
  const active = pathMatchers.length > 0 || keys || scanText;

  const redactText = (text: string): string => {
    let out = text;
    // Every built-in secret shape is at least 13 characters long.
    if ((patterns.length > 0 || cards) && out.length >= 13) {
      if (QUICK.test(out)) {
        for (const pattern of patterns) {
          pattern.lastIndex = 0;
          out = out.replace(pattern, replacement);
        }
        if (cards) {
          CARD_CANDIDATE.lastIndex = 0;
          out = out.replace(CARD_CANDIDATE, (candidate) =>
            luhnValid(candidate.replace(/[ -]/g, '')) ? replacement : candidate,
          );
        }
      }
    }
    for (const fn of custom) out = fn(out);
    return out;
  };

  // Walks the value; returns the same reference when nothing changed, so the common case allocates nothing.
  const walk = (value: unknown, path: string[], extra: readonly Matcher[], depth: number): unknown => {
    if (depth > 200) throw new RangeError('value nested too deeply to redact');
    if (typeof value === 'string') return scanText ? redactText(value) : value;
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        path.push(String(i));
        const item = value[i] as unknown;
        const next = matchesPath(path, extra) ? replacement : walk(item, path, extra, depth + 1);
        path.pop();
        if (next !== item) {
          copy ??= value.slice();
          copy[i] = next;
        }
      }
      return copy === undefined ? value : Object.freeze(copy);
    }
    let copy: Record<string, unknown> | undefined;
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const item = record[key];
      path.push(key);
      const next =
        (keys && sensitiveKey(key) && item !== null && typeof item !== 'object') || matchesPath(path, extra)
          ? replacement
          : walk(item, path, extra, depth + 1);
      path.pop();
      if (next !== item) {
        if (copy === undefined) {
          copy = {};
          for (const k of Object.keys(record)) Object.defineProperty(copy, k, describe(record[k]));
        }
        Object.defineProperty(copy, key, describe(next));
      }
    }
    return copy === undefined ? value : Object.freeze(copy);
  };
  const matchesPath = (path: readonly string[], extra: readonly Matcher[]): boolean => {
    for (const matcher of pathMatchers) if (matcher(path)) return true;
    for (const matcher of extra) if (matcher(path)) return true;
    return false;
  };

  return {
    active,
    redact(value, root, extraPaths) {
      const extra = extraPaths === undefined || extraPaths.length === 0 ? [] : extraPaths.map(compilePath);
      if (!active && extra.length === 0) return value;
      try {
        return walk(value, [root], extra, 0);
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
  };
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
