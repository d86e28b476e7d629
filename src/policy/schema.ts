import { z } from 'zod';
import { ConfigurationError } from '../errors.ts';
import type { Duration, LimitKeyField, ToolRequest } from '../types.ts';
import type { Condition } from './condition-types.ts';
import type { TimeWindow } from './schedule.ts';

/** Limits a rule declares; enforced by the guard's limits step, before execution. */
export interface RuleLimitsInput {
  /**
   * `'<count>/<window>'`: a positive integer and an `ms` duration, e.g. `'20/1m'`; a bare unit
   * means one of it (`'20/h'`), and spaces around the parts are allowed.
   */
  rate?: string;
  /** Maximum calls in flight at once. */
  concurrency?: number;
  /** A running sum per window: `{ sum: 'args.amount', max: 1000, per: '1d' }`, or a `cost` function. */
  budget?: { sum?: string; cost?: (request: ToolRequest) => number; max: number; per: Duration };
  /** What the counters are keyed by. @default ['tool', 'principal'] */
  key?: readonly LimitKeyField[];
}

/** Requirements of an `ask` rule's approval. */
export interface RuleApproval {
  /** How long to wait for an answer. */
  timeout?: Duration;
  /** How many distinct approvers must approve. @default 1 */
  quorum?: number;
  /** Globs an approver's identity must match. */
  approvers?: string | readonly string[];
  /** The call's principal may not approve it. */
  separationOfDuties?: boolean;
}

/** Output obligations a rule attaches to the decisions it takes part in (strictest wins). */
export interface RuleObligations {
  /** Truncate array results (and push a LIMIT into SQL) to this many rows. */
  maxRows?: number;
  /** Cap the serialized size of the result. */
  maxBytes?: number;
  /** A call timeout tighter than the default. */
  timeout?: Duration;
  /** Paths to redact from the result before it is recorded. */
  redact?: readonly string[];
}

/** One rule of the built-in engine. */
export interface Rule {
  /** Unique id; named in every decision the rule takes part in. */
  id: string;
  effect: 'allow' | 'deny' | 'ask';
  /** Anchored glob(s) on the tool name (`*` matches any run of characters). Default: every tool. */
  tool?: string | readonly string[];
  /** Anchored glob(s) on `context.agent`. */
  agent?: string | readonly string[];
  /** Anchored glob(s) on `context.principal`. */
  principal?: string | readonly string[];
  /** Anchored glob(s) on `context.intent`. */
  intent?: string | readonly string[];
  /** Conditions on `args.*`, `context.*`, `tool.*`, scopes, or a predicate. */
  when?: Condition;
  /** The rule applies only inside this window. */
  schedule?: TimeWindow;
  /** The rule applies only outside this window. */
  outside?: TimeWindow;
  /** The rule stops applying at this instant (ISO 8601 with an offset, or epoch ms). */
  expires?: string | number;
  /** Rate, concurrency and budget limits (allow and ask rules). */
  limit?: RuleLimitsInput;
  /** Approval requirements (ask rules). */
  approval?: RuleApproval;
  obligations?: RuleObligations;
  /** Shown to the model (deny) or the approver (ask). */
  reason?: string;
}

const duration = z.union([z.number().finite().nonnegative(), z.string().min(1)]);
const globs = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const window = z.custom<TimeWindow>((value) => typeof value === 'object' && value !== null, {
  message: 'must be an object { days, hours, tz, from, until }',
});

const ruleSchema = z.strictObject({
  id: z.string().min(1).max(200),
  effect: z.enum(['allow', 'deny', 'ask']),
  tool: globs.optional(),
  agent: globs.optional(),
  principal: globs.optional(),
  intent: globs.optional(),
  when: z.unknown().optional(),
  schedule: window.optional(),
  outside: window.optional(),
  expires: z.union([z.string(), z.number().finite()]).optional(),
  limit: z
    .strictObject({
      // Its form is checked at compile time by the limits step's own parser (`parseRate`).
      rate: z.string().optional(),
      concurrency: z.number().int().positive().optional(),
      budget: z
        .strictObject({
          sum: z
            .string()
            .regex(/^args\.[^.]+(\.[^.]+)*$/, 'must be a path under args.')
            .optional(),
          cost: z.custom<(request: ToolRequest) => number>((v) => typeof v === 'function').optional(),
          max: z.number().finite().nonnegative(),
          per: duration,
        })
        .refine((budget) => (budget.sum === undefined) !== (budget.cost === undefined), {
          message: 'needs exactly one of sum or cost',
        })
        .optional(),
      key: z
        .array(z.enum(['tool', 'agent', 'principal', 'session', 'intent']))
        .min(1)
        .optional(),
    })
    .refine((limit) => Object.keys(limit).some((key) => key !== 'key'), {
      message: 'declares no limit (rate, concurrency or budget)',
    })
    .optional(),
  approval: z
    .strictObject({
      timeout: duration.optional(),
      quorum: z.number().int().positive().optional(),
      approvers: globs.optional(),
      separationOfDuties: z.boolean().optional(),
    })
    .optional(),
  obligations: z
    .strictObject({
      maxRows: z.number().int().nonnegative().optional(),
      maxBytes: z.number().int().nonnegative().optional(),
      timeout: duration.optional(),
      redact: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  reason: z.string().max(2000).optional(),
});

/** Validates the shape of one rule; throws a ConfigurationError naming the rule id (or index) and the field. */
export function validateRule(rule: unknown, index: number): Rule {
  const label =
    typeof rule === 'object' && rule !== null && typeof (rule as { id?: unknown }).id === 'string'
      ? `rule ${JSON.stringify((rule as { id: string }).id)}`
      : `rule #${index}`;
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule))
    throw new ConfigurationError(`${label}: must be an object`);
  for (const key of Reflect.ownKeys(rule)) {
    if (typeof key !== 'string') throw new ConfigurationError(`${label}: symbol keys are not allowed`);
  }
  const result = ruleSchema.safeParse(rule);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.map(String).join('.');
    const detail =
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}`
        : issue.message;
    throw new ConfigurationError(`${label}: ${field === '' ? '' : `${field}: `}${detail}`);
  }
  const valid = result.data as unknown as Rule;
  if (valid.approval !== undefined && valid.effect !== 'ask')
    throw new ConfigurationError(`${label}: approval: only ask rules take approval requirements`);
  if (valid.limit !== undefined && valid.effect === 'deny')
    throw new ConfigurationError(`${label}: limit: deny rules take no limits`);
  return valid;
}
