import type { RateCheck } from '../store/types.ts';
import type { LimitKeyField, RuleLimits, ToolRequest } from '../types.ts';
import { type ParsedLimits, parseLimits } from './parse.ts';

// Keys of the limits step (src/limits/admission.ts): suspension keys, and the counter keys of a
// rule's limits, with the parsing behind them cached for frozen declarations. The cached strings
// are the same objects on every call, so the store's map lookups never hash a new key.

/** Fields a suspension can name. */
export const SUSPENSION_FIELDS = ['tool', 'agent', 'principal', 'session'] as const;

/** Suspension keys of recent values (the same few agents, principals and tools call again and again). */
const suspensionKeys = {
  tool: new Map<string, string>(),
  agent: new Map<string, string>(),
  principal: new Map<string, string>(),
  session: new Map<string, string>(),
};

export function cachedSuspensionKey(field: (typeof SUSPENSION_FIELDS)[number], value: string): string {
  const cache = suspensionKeys[field];
  let key = cache.get(value);
  if (key === undefined) {
    key = suspensionKey(field, value.normalize('NFC'));
    // Bounded: past the cap (many sessions, say) keys are simply computed each time.
    if (cache.size < 10_000) cache.set(value, key);
  }
  return key;
}

/** The store key of a suspension of one field value, e.g. `agent=support-bot`. */
export function suspensionKey(field: 'tool' | 'agent' | 'principal' | 'session', value: string): string {
  return `${field}=${value}`;
}

/**
 * Parsed limits of frozen declarations (those of `rules()`, or any engine that freezes its
 * decisions), kept per declaration object: parsing them again would give the same result.
 */
const parsedCache = new WeakMap<object, ParsedLimits>();

export function parsedLimits(rule: string, limits: RuleLimits): ParsedLimits {
  const cached = parsedCache.get(limits);
  if (cached !== undefined && cached.rule === rule) return cached;
  const parsed = parseLimits(rule, limits);
  if (
    Object.isFrozen(limits) &&
    (limits.key === undefined || Object.isFrozen(limits.key)) &&
    (limits.budget === undefined || Object.isFrozen(limits.budget))
  ) {
    parsedCache.set(limits, parsed);
    keyTrees.set(parsed, { tree: new Map(), size: 0 });
  }
  return parsed;
}

/** The store keys of one rule for one combination of key-field values. */
export interface CounterKeys {
  readonly rate: string;
  readonly concurrency: string;
  readonly budget: string;
  /** The rule's rate check (frozen), when it has a rate. */
  readonly rateChecks: readonly RateCheck[] | undefined;
}

/** Cached counter keys per parsed rule: value → value → … → keys, one level per key field. */
type KeyTree = Map<string | null, KeyTree | CounterKeys>;
const keyTrees = new WeakMap<ParsedLimits, { tree: KeyTree; size: number }>();
const MAX_CACHED_KEYS = 10_000;

/**
 * Counters are per rule and per value of the rule's key fields; JSON keeps the parts apart:
 * `rate:` + `JSON.stringify([rule, keyFields, values])`. The keys of values seen before are
 * cached, so the store is handed the same string again (its hash already computed) and no JSON
 * is built on the hot path.
 */
export function keysOf(parsed: ParsedLimits, request: ToolRequest): CounterKeys {
  const cache = keyTrees.get(parsed);
  // Limits parsed for this call only (not frozen, so not cached): nothing to keep keys for.
  if (cache === undefined) return buildKeys(parsed, request);
  const fields = parsed.key;
  let node: KeyTree = cache.tree;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as LimitKeyField;
    const value = field === 'tool' ? request.tool.name : (request.context[field] ?? null);
    const next = node.get(value);
    if (next === undefined) {
      const keys = buildKeys(parsed, request);
      if (cache.size >= MAX_CACHED_KEYS) return keys;
      cache.size += 1;
      // Create the rest of the path down to the leaf.
      for (let j = i; j < fields.length; j++) {
        const field_ = fields[j] as LimitKeyField;
        const value_ = field_ === 'tool' ? request.tool.name : (request.context[field_] ?? null);
        if (j === fields.length - 1) node.set(value_, keys);
        else {
          const child: KeyTree = new Map();
          node.set(value_, child);
          node = child;
        }
      }
      return keys;
    }
    if (i === fields.length - 1) return next as CounterKeys;
    node = next as KeyTree;
  }
  // No key fields: one counter for the rule.
  return buildKeys(parsed, request);
}

function buildKeys(parsed: ParsedLimits, request: ToolRequest): CounterKeys {
  let scope = parsed.keyPrefix;
  const fields = parsed.key;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as LimitKeyField;
    const value = field === 'tool' ? request.tool.name : (request.context[field] ?? null);
    scope += i === 0 ? JSON.stringify(value) : `,${JSON.stringify(value)}`;
  }
  scope += ']]';
  const rate = `rate:${scope}`;
  const rateChecks =
    parsed.rate === undefined
      ? undefined
      : Object.freeze([
          Object.freeze({ key: rate, limit: parsed.rate.limit, windowMs: parsed.rate.windowMs }),
        ]);
  return { rate, concurrency: `concurrency:${scope}`, budget: `budget:${scope}`, rateChecks };
}
