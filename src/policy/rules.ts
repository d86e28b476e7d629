import { type CompiledGlob, compileGlob } from '../_internal/glob.ts';
import { ConfigurationError } from '../errors.ts';
import type { Decision, ToolRequest } from '../types.ts';
import { deny } from './evaluate.ts';
import type { PolicyEngine } from './types.ts';

/** One rule of the built-in engine. */
export interface Rule {
  /** Unique id; named in every decision the rule takes part in. */
  id: string;
  effect: 'allow' | 'deny' | 'ask';
  /** Anchored glob(s) on the tool name; `*` matches any run of characters. Default: every tool. */
  tool?: string | readonly string[];
  /** Shown to the model (deny) or the approver (ask). */
  reason?: string;
}

const RULE_KEYS = new Set(['id', 'effect', 'tool', 'reason']);
const EFFECTS = new Set(['allow', 'deny', 'ask']);

interface CompiledRule {
  readonly id: string;
  readonly effect: Rule['effect'];
  readonly reason: string | undefined;
}

/**
 * The built-in policy engine: deny beats ask beats allow, no matching rule denies
 * (`NO_MATCHING_RULE`), and rule order and duplicates never change a decision.
 * Rules are indexed by exact tool name, so the cost of a decision does not grow with rules for
 * other tools. Invalid rules throw a ConfigurationError here, at construction.
 *
 * @example
 * const policy = rules([
 *   { id: 'read', effect: 'allow', tool: 'db.read*' },
 *   { id: 'refunds', effect: 'ask', tool: 'payments.refund', reason: 'refunds need a human' },
 *   { id: 'no-deletes', effect: 'deny', tool: '*.delete*' },
 * ]);
 */
export function rules(list: readonly Rule[]): PolicyEngine {
  if (!Array.isArray(list)) throw new ConfigurationError('rules() takes an array of rules');
  const exact = new Map<string, CompiledRule[]>();
  const patterns: { glob: CompiledGlob; rule: CompiledRule }[] = [];
  const ids = new Set<string>();
  list.forEach((rule, index) => {
    const compiled = compileRule(rule, index);
    if (ids.has(compiled.id))
      throw new ConfigurationError(`rule ${JSON.stringify(compiled.id)}: duplicate id`);
    ids.add(compiled.id);
    const tools = rule.tool === undefined ? ['*'] : typeof rule.tool === 'string' ? [rule.tool] : rule.tool;
    for (const tool of tools) {
      const glob = compileGlob(tool);
      if (glob.exact !== undefined) {
        const bucket = exact.get(glob.exact) ?? [];
        bucket.push(compiled);
        exact.set(glob.exact, bucket);
      } else {
        patterns.push({ glob, rule: compiled });
      }
    }
  });

  return {
    name: 'rules',
    evaluate(request: ToolRequest): Decision {
      const name = request.tool.name;
      const matched = new Set<CompiledRule>(exact.get(name));
      for (const { glob, rule } of patterns) if (glob.test(name)) matched.add(rule);
      return combine(matched);
    },
  };
}

function combine(matched: Set<CompiledRule>): Decision {
  const byEffect: Record<Rule['effect'], CompiledRule[]> = { deny: [], ask: [], allow: [] };
  for (const rule of matched) byEffect[rule.effect].push(rule);
  const winners =
    byEffect.deny.length > 0 ? byEffect.deny : byEffect.ask.length > 0 ? byEffect.ask : byEffect.allow;
  if (winners.length === 0) return deny('NO_MATCHING_RULE', 'no rule allows this call');
  // Sorted so that rule order never changes a decision, not even its wording.
  winners.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const ids = Object.freeze(winners.map((rule) => rule.id));
  const reason = winners.map((rule) => rule.reason ?? `rule ${rule.id}`).join('; ');
  const effect = winners[0]!.effect;
  if (effect === 'deny') return deny('DENIED_BY_RULE', reason, ids);
  if (effect === 'ask') return Object.freeze({ type: 'ask', rules: ids, reason });
  return Object.freeze({ type: 'allow', rules: ids, reason });
}

function compileRule(rule: Rule, index: number): CompiledRule {
  if (typeof rule !== 'object' || rule === null)
    throw new ConfigurationError(`rule #${index}: must be an object`);
  const label = typeof rule.id === 'string' ? `rule ${JSON.stringify(rule.id)}` : `rule #${index}`;
  for (const key of Reflect.ownKeys(rule)) {
    if (typeof key !== 'string' || !RULE_KEYS.has(key))
      throw new ConfigurationError(`${label}: unknown field ${String(key)}`);
  }
  if (typeof rule.id !== 'string' || rule.id.length === 0)
    throw new ConfigurationError(`${label}: id must be a non-empty string`);
  if (!EFFECTS.has(rule.effect))
    throw new ConfigurationError(`${label}: effect must be 'allow', 'deny' or 'ask'`);
  if (rule.tool !== undefined) {
    const tools = typeof rule.tool === 'string' ? [rule.tool] : rule.tool;
    if (
      !Array.isArray(tools) ||
      tools.length === 0 ||
      !tools.every((tool) => typeof tool === 'string' && tool.length > 0)
    ) {
      throw new ConfigurationError(`${label}: tool must be a glob or a non-empty list of globs`);
    }
  }
  if (rule.reason !== undefined && typeof rule.reason !== 'string')
    throw new ConfigurationError(`${label}: reason must be a string`);
  return { id: rule.id, effect: rule.effect, reason: rule.reason };
}
