import { canonicalJson, sha256Hex } from '../_internal/canonical.ts';
import { parseDuration } from '../_internal/duration.ts';
import { type CompiledGlob, compileGlob } from '../_internal/glob.ts';
import { type NameKind, nameProblem } from '../_internal/names.ts';
import { ConfigurationError } from '../errors.ts';
import { parseRate } from '../limits/parse.ts';
import type {
  ApprovalRequirements,
  JsonValue,
  LimitRequirement,
  Obligations,
  RuleLimits,
  ToolRequest,
} from '../types.ts';
import type { CompileConditionOptions, Explain, Tri } from './condition-types.ts';
import { compileCondition } from './conditions.ts';
import { mergeObligations } from './merge.ts';
import { compileWindow, parseInstant } from './schedule.ts';
import { type Rule, validateRule } from './schema.ts';

/** A rule ready for evaluation. */
export interface CompiledRule {
  readonly id: string;
  readonly effect: Rule['effect'];
  /** The rule's reason, or a default naming it. */
  readonly reason: string;
  readonly tools: readonly CompiledGlob[];
  readonly agent: readonly CompiledGlob[] | undefined;
  readonly principal: readonly CompiledGlob[] | undefined;
  readonly intent: readonly CompiledGlob[] | undefined;
  readonly schedule: ((now: number) => boolean) | undefined;
  readonly outside: ((now: number) => boolean) | undefined;
  readonly expires: number | undefined;
  readonly when: ((request: ToolRequest) => Tri) | undefined;
  /** Explains `when` for one request (the deny path only). */
  readonly explain: Explain | undefined;
  readonly obligations: Obligations | undefined;
  readonly approval: ApprovalRequirements | undefined;
  readonly limits: LimitRequirement | undefined;
  /** Operators used in `when`, for lint. */
  readonly operators: ReadonlySet<string>;
  /** JSON form, for the version hash. */
  readonly spec: JsonValue;
}

/** Validates and compiles one rule; throws a ConfigurationError naming the rule and field. */
export function compileRule(rule: unknown, index: number, options: CompileConditionOptions): CompiledRule {
  const valid = validateRule(rule, index);
  const label = `rule ${JSON.stringify(valid.id)}`;
  const tools = compilePatterns(valid.tool ?? '*', `${label}: tool`, 'tool pattern');
  const agent =
    valid.agent === undefined ? undefined : compilePatterns(valid.agent, `${label}: agent`, 'pattern');
  const principal =
    valid.principal === undefined
      ? undefined
      : compilePatterns(valid.principal, `${label}: principal`, 'pattern');
  const intent =
    valid.intent === undefined ? undefined : compilePatterns(valid.intent, `${label}: intent`, 'pattern');
  const schedule =
    valid.schedule === undefined ? undefined : compileWindow(valid.schedule, `${label}: schedule`);
  const outside = valid.outside === undefined ? undefined : compileWindow(valid.outside, `${label}: outside`);
  const expires = valid.expires === undefined ? undefined : parseInstant(valid.expires, `${label}: expires`);
  const condition = valid.when === undefined ? undefined : compileCondition(valid.when, label, options);

  let obligations: Obligations | undefined;
  if (valid.obligations !== undefined) {
    const declared: { -readonly [K in keyof Obligations]: Obligations[K] } = {};
    const { maxRows, maxBytes, timeout, redact } = valid.obligations;
    if (maxRows !== undefined) declared.maxRows = maxRows;
    if (maxBytes !== undefined) declared.maxBytes = maxBytes;
    if (timeout !== undefined) declared.timeout = parseDuration(timeout, `${label}: obligations.timeout`);
    if (redact !== undefined) declared.redact = Object.freeze([...new Set(redact)].sort());
    obligations = Object.freeze(declared);
  }
  obligations = mergeObligations(obligations, condition?.obligations);

  let approval: ApprovalRequirements | undefined;
  if (valid.approval !== undefined) {
    const declared: { -readonly [K in keyof ApprovalRequirements]: ApprovalRequirements[K] } = {};
    const { timeout, quorum, approvers, separationOfDuties } = valid.approval;
    if (timeout !== undefined) declared.timeout = parseDuration(timeout, `${label}: approval.timeout`);
    if (quorum !== undefined) declared.quorum = quorum;
    if (approvers !== undefined) {
      const list = typeof approvers === 'string' ? [approvers] : approvers;
      // Checked like the names they match, so an approver glob can never name an invisible variant.
      for (const pattern of list) namePatternProblem(pattern, `${label}: approval.approvers`, 'identity');
      declared.approvers = Object.freeze(list.map((pattern) => pattern.normalize('NFC')));
    }
    if (separationOfDuties !== undefined) declared.separationOfDuties = separationOfDuties;
    approval = Object.freeze(declared);
  }

  let limits: LimitRequirement | undefined;
  if (valid.limit !== undefined) {
    const declared: { -readonly [K in keyof RuleLimits]: RuleLimits[K] } = {};
    const { rate, concurrency, budget, key } = valid.limit;
    if (rate !== undefined) {
      checkRate(rate, label);
      declared.rate = rate;
    }
    if (concurrency !== undefined) declared.concurrency = concurrency;
    if (budget !== undefined) {
      const per = parseDuration(budget.per, `${label}: limit.budget.per`);
      if (!(per > 0)) throw new ConfigurationError(`${label}: limit.budget.per: must be positive`);
      const out: NonNullable<RuleLimits['budget']> =
        budget.cost !== undefined
          ? { cost: budget.cost, max: budget.max, per }
          : { sum: budget.sum as string, max: budget.max, per };
      declared.budget = Object.freeze(out);
    }
    if (key !== undefined) declared.key = Object.freeze([...key]);
    limits = Object.freeze({ rule: valid.id, limits: Object.freeze(declared) });
  }

  const spec: Record<string, JsonValue> = {};
  for (const [field, value] of Object.entries(valid)) {
    if (value === undefined) continue;
    if (field === 'when') spec.when = condition!.spec;
    else spec[field] = toJson(value);
  }
  return Object.freeze({
    id: valid.id,
    effect: valid.effect,
    reason: valid.reason ?? `rule ${valid.id}`,
    tools,
    agent,
    principal,
    intent,
    schedule,
    outside,
    expires,
    when: condition?.evaluate,
    explain: condition?.explain,
    obligations,
    approval,
    limits,
    operators: condition?.operators ?? new Set<string>(),
    spec,
  });
}

/**
 * Checks a rate with the limits step's own parser, so `rules()` accepts exactly the rates that
 * step runs: a rate it refused would deny every call of the rule at run time.
 */
function checkRate(rate: string, label: string): void {
  try {
    parseRate(rate);
  } catch (error) {
    if (!(error instanceof TypeError) && !ConfigurationError.isInstance(error)) throw error;
    const detail = error.message.replace(/^toolgate: /, '');
    throw new ConfigurationError(`${label}: limit.rate: ${detail}`, { cause: error });
  }
}

function compilePatterns(
  value: string | readonly string[],
  where: string,
  kind: 'tool pattern' | 'pattern',
): CompiledGlob[] {
  const list = typeof value === 'string' ? [value] : value;
  return list.map((pattern) => {
    namePatternProblem(pattern, where, kind === 'tool pattern' ? 'tool' : 'identity');
    return compileGlob(pattern);
  });
}

/** Throws when a name glob holds what the names it matches may not (`*`, the wildcard, is allowed). */
function namePatternProblem(pattern: string, where: string, kind: NameKind): void {
  const problem = nameProblem(
    pattern.normalize('NFC'),
    kind,
    kind === 'tool' ? 'a tool pattern' : 'a pattern',
  );
  if (problem !== undefined) throw new ConfigurationError(`${where}: ${JSON.stringify(pattern)}: ${problem}`);
}

function toJson(value: unknown): JsonValue {
  if (typeof value === 'function') return { $function: String(value) };
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, JsonValue> = {};
    for (const [key, child] of Object.entries(value)) if (child !== undefined) out[key] = toJson(child);
    return out;
  }
  return value as JsonValue;
}

/** The version of a rule set: SHA-256 of the canonical JSON of its rules sorted by id. */
export function policyVersionOf(rules: readonly CompiledRule[]): string {
  const specs = [...rules].sort((a, b) => compareIds(a.id, b.id)).map((rule) => rule.spec);
  return sha256Hex(canonicalJson(specs));
}

/** Orders rule ids by UTF-16 code units, so decisions never depend on rule order. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
