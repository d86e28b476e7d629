import { parseDuration } from '../_internal/duration.ts';
import type { LimitKeyField, RuleLimits, ToolRequest } from '../types.ts';

/** The limits of one rule, checked and parsed. */
export interface ParsedLimits {
  readonly rule: string;
  readonly key: readonly LimitKeyField[];
  /** JSON of `[rule, key fields]` without its closing, the constant start of the rule's counter keys. */
  readonly keyPrefix: string;
  readonly rate?: { readonly limit: number; readonly windowMs: number };
  readonly concurrency?: number;
  readonly budget?: {
    readonly amount: (request: ToolRequest) => number;
    readonly what: string;
    readonly max: number;
    readonly windowMs: number;
  };
}

const KEY_FIELDS: ReadonlySet<string> = new Set(['tool', 'agent', 'principal', 'session', 'intent']);
const DEFAULT_KEY: readonly LimitKeyField[] = Object.freeze(['tool', 'principal'] as const);
const KNOWN = new Set(['rate', 'concurrency', 'budget', 'key']);
const KNOWN_BUDGET = new Set(['sum', 'cost', 'max', 'per']);

const rateCache = new Map<string, { limit: number; windowMs: number }>();

/**
 * Parses `'<count>/<window>'`: a positive integer count and an `ms` duration (`'20/1m'`,
 * `'100/1h'`; a bare unit such as `'20/h'` means one of it). Throws on anything else.
 */
export function parseRate(rate: string): { limit: number; windowMs: number } {
  const cached = rateCache.get(rate);
  if (cached !== undefined) return cached;
  const match = typeof rate === 'string' ? /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(rate) : null;
  if (match === null) throw new TypeError(`rate must look like '20/1m', got ${JSON.stringify(rate)}`);
  const limit = Number(match[1]);
  let window = match[2] as string;
  if (/^[a-z]+$/i.test(window)) window = `1${window}`;
  const windowMs = parseDuration(window, 'rate window');
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new TypeError('a rate needs a positive count');
  if (!(windowMs > 0)) throw new TypeError('a rate needs a positive window');
  const parsed = Object.freeze({ limit, windowMs });
  if (rateCache.size < 1000) rateCache.set(rate, parsed);
  return parsed;
}

/** Checks and parses one rule's limits; throws a TypeError naming the field on anything malformed. */
export function parseLimits(rule: string, limits: Readonly<RuleLimits>): ParsedLimits {
  if (typeof limits !== 'object' || limits === null)
    throw new TypeError(`rule ${rule}: limits must be an object`);
  for (const field of Object.keys(limits)) {
    if (!KNOWN.has(field)) throw new TypeError(`rule ${rule}: unknown limit ${JSON.stringify(field)}`);
  }
  const parsed: {
    rule: string;
    key: readonly LimitKeyField[];
    rate?: { limit: number; windowMs: number };
    concurrency?: number;
    budget?: NonNullable<ParsedLimits['budget']>;
  } = { rule, key: DEFAULT_KEY };
  if (limits.key !== undefined) {
    if (!Array.isArray(limits.key) || limits.key.some((field) => !KEY_FIELDS.has(field)))
      throw new TypeError(`rule ${rule}: limit key must list tool, agent, principal, session or intent`);
    parsed.key = limits.key;
  }
  if (limits.rate !== undefined) parsed.rate = parseRate(limits.rate);
  if (limits.concurrency !== undefined) {
    if (!Number.isSafeInteger(limits.concurrency) || limits.concurrency <= 0)
      throw new TypeError(`rule ${rule}: concurrency must be a positive integer`);
    parsed.concurrency = limits.concurrency;
  }
  const budget = limits.budget;
  if (budget !== undefined) {
    if (typeof budget !== 'object' || budget === null)
      throw new TypeError(`rule ${rule}: budget must be an object`);
    for (const field of Object.keys(budget)) {
      if (!KNOWN_BUDGET.has(field))
        throw new TypeError(`rule ${rule}: unknown budget field ${JSON.stringify(field)}`);
    }
    if (typeof budget.max !== 'number' || !Number.isFinite(budget.max) || budget.max < 0)
      throw new TypeError(`rule ${rule}: budget max must be a finite, non-negative number`);
    const windowMs = parseDuration(budget.per, `rule ${rule}: budget per`);
    if (!(windowMs > 0)) throw new TypeError(`rule ${rule}: budget per must be positive`);
    if ((budget.sum === undefined) === (budget.cost === undefined))
      throw new TypeError(`rule ${rule}: a budget needs exactly one of sum and cost`);
    let amount: (request: ToolRequest) => number;
    let what: string;
    if (budget.sum !== undefined) {
      const path = parsePath(budget.sum, rule);
      what = budget.sum;
      amount = (request) => readPath(request, path) as number;
    } else {
      const cost = budget.cost;
      if (typeof cost !== 'function') throw new TypeError(`rule ${rule}: budget cost must be a function`);
      what = 'the cost function';
      amount = (request) => cost(request);
    }
    parsed.budget = { amount, what, max: budget.max, windowMs };
  }
  return { ...parsed, keyPrefix: `[${JSON.stringify(rule)},${JSON.stringify(parsed.key)},[` };
}

function parsePath(path: unknown, rule: string): readonly string[] {
  if (typeof path !== 'string')
    throw new TypeError(`rule ${rule}: budget sum must be a path such as 'args.amount'`);
  const parts = path.split('.');
  if (
    parts.length < 2 ||
    (parts[0] !== 'args' && parts[0] !== 'context') ||
    parts.some((part) => part === '')
  )
    throw new TypeError(
      `rule ${rule}: budget sum must be a path under args or context, got ${JSON.stringify(path)}`,
    );
  return parts;
}

/** Reads a path through own properties only; anything missing gives `undefined`. */
function readPath(request: ToolRequest, path: readonly string[]): unknown {
  let value: unknown = request;
  for (const part of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
