import { errorParts } from '../_internal/describe-error.ts';
import { actualValue } from '../_internal/failed-text.ts';
import { toolNameProblem } from '../_internal/names.ts';
import { ConfigurationError } from '../errors.ts';
import type {
  Decision,
  FailedCondition,
  JsonValue,
  LimitRequirement,
  Obligations,
  ToolRequest,
} from '../types.ts';
import { type CompiledRule, compareIds, compileRule, policyVersionOf } from './compile.ts';
import type { CompileConditionOptions, Tri } from './condition-types.ts';
import { deny, ownDecision, withFailed } from './evaluate.ts';
import { ToolIndex } from './index-by-tool.ts';
import { mergeApproval, mergeObligations } from './merge.ts';
import type { PolicyEngine } from './types.ts';

export type { Rule, RuleApproval, RuleLimitsInput, RuleObligations } from './schema.ts';

import type { Rule } from './schema.ts';

/** Options of `rules()`. */
export interface RulesOptions extends CompileConditionOptions {}

/** Why a rule did or did not apply to a request. */
export type RuleStatus =
  | 'applies'
  | 'tool-mismatch'
  | 'target-mismatch'
  | 'expired'
  | 'outside-schedule'
  | 'inside-outside-window'
  | 'condition-false'
  | 'condition-indeterminate'
  | { error: string };

/** The built-in rules engine, with its compiled rules for tooling (`toolgate policy …`). */
export interface RulesEngine extends PolicyEngine {
  /** SHA-256 of the canonical rules, recorded on every decision as `policyVersion`. */
  readonly version: string;
  /** Rule ids, sorted. */
  readonly ruleIds: readonly string[];
}

const compiledRules = new WeakMap<PolicyEngine, readonly CompiledRule[]>();

/** The compiled rules of an engine made by `rules()`, for tooling. */
export function rulesOf(engine: PolicyEngine): readonly CompiledRule[] | undefined {
  return compiledRules.get(engine);
}

/**
 * The built-in policy engine. Default deny (`NO_MATCHING_RULE`); deny beats ask beats allow; rule
 * order and duplicates never change a decision; an error while evaluating an applicable rule denies
 * (`POLICY_ERROR`). An allow rule applies only when its target and condition are definitely true;
 * a deny or ask rule applies unless they are definitely false. Rules are indexed by tool pattern, so
 * the cost of a decision does not grow with rules for other tools. Invalid rules throw a
 * ConfigurationError here, naming the rule and field.
 *
 * @example
 * const policy = rules([
 *   { id: 'refund-small', effect: 'allow', tool: 'payments.refund', when: { 'args.amount': { lte: 100 } } },
 *   { id: 'refund-large', effect: 'ask', tool: 'payments.refund', when: { 'args.amount': { gt: 100 } } },
 *   { id: 'no-deletes', effect: 'deny', tool: '*.delete*' },
 * ]);
 */
export function rules(list: readonly Rule[], options: RulesOptions = {}): RulesEngine {
  if (!Array.isArray(list)) throw new ConfigurationError('rules() takes an array of rules');
  const compiled: CompiledRule[] = [];
  const ids = new Set<string>();
  list.forEach((rule, index) => {
    const one = compileRule(rule, index, options);
    if (ids.has(one.id)) throw new ConfigurationError(`rule ${JSON.stringify(one.id)}: duplicate id`);
    ids.add(one.id);
    compiled.push(one);
  });
  compiled.sort((a, b) => compareIds(a.id, b.id));
  const version = policyVersionOf(compiled);
  const index = new ToolIndex(compiled);
  const noMatch = deny('NO_MATCHING_RULE', 'no rule allows this call', [], version);
  const single = new Map<CompiledRule, Decision>();
  for (const rule of compiled) if (rule.effect === 'allow') single.set(rule, allowOf([rule], version));

  const engine: RulesEngine = {
    name: 'rules',
    version,
    ruleIds: Object.freeze(compiled.map((rule) => rule.id)),
    evaluate(request: ToolRequest): Decision {
      const name = request.tool.name;
      const candidates = index.lookup(name);
      if (candidates === undefined) {
        return deny('UNKNOWN_TOOL', toolNameProblem(name) ?? 'invalid tool name', [], version);
      }
      let applicable: CompiledRule[] | undefined;
      let first: CompiledRule | undefined;
      let errors: { rule: CompiledRule; message: string }[] | undefined;
      // Indexed: with the try below, a for-of allocated an iterator result per candidate.
      for (let i = 0; i < candidates.length; i++) {
        const rule = candidates[i]!;
        let applies: boolean;
        try {
          applies = ruleApplies(rule, request);
        } catch (error) {
          if (errors === undefined) errors = [];
          errors.push({ rule, message: errorParts(error).message });
          continue;
        }
        if (!applies) continue;
        if (first === undefined) first = rule;
        else if (applicable === undefined) applicable = [first, rule];
        else applicable.push(rule);
      }
      if (errors !== undefined) {
        return deny(
          'POLICY_ERROR',
          `rule ${errors[0]!.rule.id} could not be evaluated: ${errors[0]!.message}`,
          errors.map((entry) => entry.rule.id),
          version,
        );
      }
      if (first === undefined)
        return candidates.length === 0
          ? withFailed(noMatch, [{ path: 'tool.name', expected: NAMED_BY_A_RULE, actual: actualValue(name) }])
          : nearMisses(candidates, request, version);
      if (applicable === undefined) {
        if (first.effect === 'allow') return single.get(first)!;
        return combine([first], version, request);
      }
      return combine(applicable, version, request);
    },
  };
  compiledRules.set(engine, compiled);
  return Object.freeze(engine);
}

/**
 * Whether a rule applies. Throws when its condition fails to evaluate.
 * Allow: target and condition definitely true. Deny and ask: not definitely false.
 */
export function ruleApplies(rule: CompiledRule, request: ToolRequest): boolean {
  return statusOf(rule, request) === 'applies';
}

/** Why a rule does or does not apply (the tool pattern is assumed to match). Throws on evaluation errors. */
export function statusOf(rule: CompiledRule, request: ToolRequest): Exclude<RuleStatus, { error: string }> {
  const now = request.now;
  if (rule.expires !== undefined && now >= rule.expires) return 'expired';
  if (rule.schedule !== undefined && !rule.schedule(now)) return 'outside-schedule';
  if (rule.outside?.(now)) return 'inside-outside-window';
  let result: Tri = true;
  if (rule.agent !== undefined || rule.principal !== undefined || rule.intent !== undefined) {
    const context = request.context;
    result = and(
      and(matchIdentity(rule.agent, context.agent), matchIdentity(rule.principal, context.principal)),
      matchIdentity(rule.intent, context.intent),
    );
    if (result === false) return 'target-mismatch';
  }
  if (rule.when !== undefined) {
    const condition = rule.when(request);
    if (condition === false) return 'condition-false';
    result = and(result, condition);
  }
  if (result === true) return 'applies';
  // Indeterminate: never allows; deny and ask rules still apply.
  return rule.effect === 'allow' ? 'condition-indeterminate' : 'applies';
}

function matchIdentity(patterns: CompiledRule['agent'], value: unknown): Tri {
  if (patterns === undefined) return true;
  if (typeof value !== 'string') return undefined;
  const name = value.normalize('NFC');
  for (const glob of patterns) if (glob.test(name)) return true;
  return false;
}

function and(a: Tri, b: Tri): Tri {
  if (a === false || b === false) return false;
  return a === undefined || b === undefined ? undefined : true;
}

const MISS_REASONS: Record<string, string> = {
  expired: 'expired',
  'outside-schedule': 'outside its schedule',
  'inside-outside-window': 'inside its excluded window',
  'target-mismatch': 'not for this agent, principal or intent',
  'condition-false': 'its conditions do not hold',
  'condition-indeterminate':
    'its conditions could not be established (a value is missing or of another type)',
};

/** What a default deny with no rule for the tool says was expected of its name. */
const NAMED_BY_A_RULE = 'a tool an allow or ask rule names';

/**
 * The default deny, explained: which rules for this tool did not apply, and why. Only on the deny
 * path; the rules are visited in id order, so the text is deterministic.
 */
function nearMisses(candidates: readonly CompiledRule[], request: ToolRequest, version: string): Decision {
  const misses: string[] = [];
  const failed: FailedCondition[] = [];
  let allowOrAsk = 0;
  for (const rule of candidates) {
    if (rule.effect === 'deny') continue;
    allowOrAsk += 1;
    const status = statusOf(rule, request);
    if (status !== 'applies') {
      misses.push(`${rule.id}: ${MISS_REASONS[status] ?? status}`);
      failed.push(...failedOf(rule, request, status));
    }
    if (misses.length === 3) break;
  }
  // Only deny rules name this tool: nothing could have allowed it.
  if (allowOrAsk === 0)
    failed.push({ path: 'tool.name', expected: NAMED_BY_A_RULE, actual: actualValue(request.tool.name) });
  const detail = misses.length === 0 ? '' : ` (${misses.join('; ')})`;
  return withFailed(deny('NO_MATCHING_RULE', `no rule allows this call${detail}`, [], version), failed);
}

/**
 * The conditions of one rule, named for a denial: for an allow or ask rule that did not apply
 * (`status`), those that kept it from applying; for a deny rule that applied, those that held
 * (with `expected` saying what would have avoided it). Only on the deny path.
 */
export function failedOf(
  rule: CompiledRule,
  request: ToolRequest,
  status: Exclude<RuleStatus, { error: string }>,
): FailedCondition[] {
  const wanted = rule.effect !== 'deny';
  // compileRule builds the spec as an object of the rule's fields.
  const spec = rule.spec as Readonly<Record<string, JsonValue>>;
  const now = new Date(request.now).toISOString();
  const failed: FailedCondition[] = [];
  const push = (entry: FailedCondition) => failed.push({ rule: rule.id, ...entry });
  if (wanted) {
    if (status === 'expired')
      push({ path: 'now', expected: `before ${new Date(rule.expires!).toISOString()}`, actual: now });
    if (status === 'outside-schedule')
      push({ path: 'now', expected: `inside the schedule ${JSON.stringify(spec.schedule)}`, actual: now });
    if (status === 'inside-outside-window')
      push({ path: 'now', expected: `outside the window ${JSON.stringify(spec.outside)}`, actual: now });
    if (status !== 'target-mismatch' && status !== 'condition-false' && status !== 'condition-indeterminate')
      return failed;
  } else {
    if (rule.schedule !== undefined)
      push({ path: 'now', expected: `outside the schedule ${JSON.stringify(spec.schedule)}`, actual: now });
    if (rule.outside !== undefined)
      push({ path: 'now', expected: `inside the window ${JSON.stringify(spec.outside)}`, actual: now });
  }
  const context = request.context;
  for (const field of ['agent', 'principal', 'intent'] as const) {
    const patterns = rule[field];
    if (patterns === undefined) continue;
    const result = matchIdentity(patterns, context[field]);
    if (result === wanted) continue;
    const list = [spec[field]].flat().join(', ');
    const entry: { -readonly [K in keyof FailedCondition]: FailedCondition[K] } = {
      path: `context.${field}`,
      expected: wanted ? `one of ${list}` : `not one of ${list}`,
    };
    if (context[field] !== undefined) entry.actual = actualValue(context[field]);
    push(entry);
  }
  if (rule.explain !== undefined) for (const entry of rule.explain(request, wanted)) push(entry);
  if (!wanted && failed.length === 0) {
    // A deny rule with no condition: it is the tool's name that it denies.
    const tools = [spec.tool ?? '*'].flat().join(', ');
    push({ path: 'tool.name', expected: `not one of ${tools}`, actual: request.tool.name });
  }
  return failed;
}

/** Combines applicable rules (sorted by id): deny beats ask beats allow. */
function combine(applicable: readonly CompiledRule[], version: string, request: ToolRequest): Decision {
  const denies = applicable.filter((rule) => rule.effect === 'deny');
  if (denies.length > 0) {
    return withFailed(
      deny(
        'DENIED_BY_RULE',
        denies.map((rule) => rule.reason).join('; '),
        denies.map((rule) => rule.id),
        version,
      ),
      denies.flatMap((rule) => failedOf(rule, request, 'applies')),
    );
  }
  const asks = applicable.filter((rule) => rule.effect === 'ask');
  if (asks.length === 0) return allowOf(applicable, version);
  let approval: Extract<Decision, { type: 'ask' }>['approval'];
  for (const rule of asks) approval = mergeApproval(approval, rule.approval);
  const decision: {
    -readonly [K in keyof Extract<Decision, { type: 'ask' }>]: Extract<Decision, { type: 'ask' }>[K];
  } = {
    type: 'ask',
    rules: Object.freeze(asks.map((rule) => rule.id)),
    reason: asks.map((rule) => rule.reason).join('; '),
  };
  if (approval !== undefined) decision.approval = approval;
  attachEffects(decision, applicable);
  decision.policyVersion = version;
  return ownDecision(Object.freeze(decision));
}

function allowOf(allows: readonly CompiledRule[], version: string): Decision {
  const decision: {
    -readonly [K in keyof Extract<Decision, { type: 'allow' }>]: Extract<Decision, { type: 'allow' }>[K];
  } = {
    type: 'allow',
    rules: Object.freeze(allows.map((rule) => rule.id)),
    reason: allows.map((rule) => rule.reason).join('; '),
  };
  attachEffects(decision, allows);
  decision.policyVersion = version;
  return ownDecision(Object.freeze(decision));
}

/** Obligations (strictest wins) and limits of every applicable allow and ask rule. */
function attachEffects(
  decision: { obligations?: Obligations; limits?: readonly LimitRequirement[] },
  applicable: readonly CompiledRule[],
): void {
  let obligations: Obligations | undefined;
  const limits: LimitRequirement[] = [];
  for (const rule of applicable) {
    obligations = mergeObligations(obligations, rule.obligations);
    if (rule.limits !== undefined) limits.push(rule.limits);
  }
  if (obligations !== undefined) decision.obligations = obligations;
  if (limits.length > 0) decision.limits = Object.freeze(limits);
}
