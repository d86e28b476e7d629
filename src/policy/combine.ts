import { sha256Hex } from '../_internal/canonical.ts';
import { describeError } from '../_internal/describe-error.ts';
import { isThenable } from '../_internal/fail-closed.ts';
import { ConfigurationError } from '../errors.ts';
import type { Decision, LimitRequirement, ToolRequest } from '../types.ts';
import { deny, engineLabel, normalizeDecision } from './evaluate.ts';
import { mergeApproval, mergeObligations } from './merge.ts';
import type { PolicyEngine } from './types.ts';

type Options = { signal: AbortSignal };

/**
 * Asks engines in order and returns the first decision that is not "no matching rule". Errors and
 * malformed decisions of an engine deny (`POLICY_ERROR`) right there; they never fall through to
 * the next engine. When no engine has a matching rule, denies with `NO_MATCHING_RULE`.
 *
 * @example
 * const policy = firstApplicable([overrides, rules(base)]);
 */
export function firstApplicable(engines: readonly PolicyEngine[]): PolicyEngine {
  checkEngines(engines, 'firstApplicable');
  const version = combinedVersion('firstApplicable', engines);
  return Object.freeze({
    name: `firstApplicable(${engines.map((engine) => engine.name).join(', ')})`,
    get version() {
      return version();
    },
    async evaluate(request: ToolRequest, options: Options): Promise<Decision> {
      const v = version();
      for (const engine of engines) {
        const decision = await ask(engine, request, options);
        if (decision.type === 'deny' && decision.code === 'NO_MATCHING_RULE') continue;
        return withVersion(decision, v);
      }
      return deny('NO_MATCHING_RULE', 'no engine has a rule for this call', [], v);
    },
    async close() {
      await closeAll(engines);
    },
  });
}

/**
 * Asks every engine and combines as one rule set: any deny (including an engine's error) wins,
 * then ask, then allow; obligations merge strictest-wins and limits of every allowing or asking
 * engine are kept. "No matching rule" from one engine is not a deny when another decides.
 *
 * @example
 * const policy = denyOverrides([rules(teamRules), cedarEngine({ policies })]);
 */
export function denyOverrides(engines: readonly PolicyEngine[]): PolicyEngine {
  checkEngines(engines, 'denyOverrides');
  const version = combinedVersion('denyOverrides', engines);
  return Object.freeze({
    name: `denyOverrides(${engines.map((engine) => engine.name).join(', ')})`,
    get version() {
      return version();
    },
    async evaluate(request: ToolRequest, options: Options): Promise<Decision> {
      const v = version();
      const decisions = await Promise.all(engines.map((engine) => ask(engine, request, options)));
      const denies = decisions.filter(
        (d): d is Extract<Decision, { type: 'deny' }> => d.type === 'deny' && d.code !== 'NO_MATCHING_RULE',
      );
      if (denies.length > 0) {
        const first = denies[0]!;
        const decision = deny(
          first.code,
          denies.map((d) => d.reason).join('; '),
          denies.flatMap((d) => d.rules),
          v,
        );
        // The failed conditions of every denying engine stay with the denial.
        const failed = denies.flatMap((d) => d.failed ?? []);
        return failed.length === 0 ? decision : Object.freeze({ ...decision, failed: Object.freeze(failed) });
      }
      const asks = decisions.filter((d): d is Extract<Decision, { type: 'ask' }> => d.type === 'ask');
      const allows = decisions.filter((d): d is Extract<Decision, { type: 'allow' }> => d.type === 'allow');
      if (asks.length === 0 && allows.length === 0)
        return deny('NO_MATCHING_RULE', 'no engine allows this call', [], v);
      let obligations: Extract<Decision, { type: 'allow' }>['obligations'];
      const limits: LimitRequirement[] = [];
      for (const d of [...asks, ...allows]) {
        obligations = mergeObligations(obligations, d.obligations);
        if (d.limits !== undefined) limits.push(...d.limits);
      }
      const winners = asks.length > 0 ? asks : allows;
      const out: Record<string, unknown> = {
        type: asks.length > 0 ? 'ask' : 'allow',
        rules: Object.freeze(winners.flatMap((d) => d.rules)),
        reason:
          winners
            .map((d) => d.reason ?? '')
            .filter((r) => r !== '')
            .join('; ') || 'allowed',
        policyVersion: v,
      };
      if (asks.length > 0) {
        let approval: Extract<Decision, { type: 'ask' }>['approval'];
        for (const d of asks) approval = mergeApproval(approval, d.approval);
        if (approval !== undefined) out.approval = approval;
      }
      if (obligations !== undefined) out.obligations = obligations;
      if (limits.length > 0) out.limits = Object.freeze(limits);
      return Object.freeze(out) as Decision;
    },
    async close() {
      await closeAll(engines);
    },
  });
}

function checkEngines(engines: readonly PolicyEngine[], name: string): void {
  if (!Array.isArray(engines) || engines.length === 0)
    throw new ConfigurationError(`${name}() takes a non-empty list of policy engines`);
  for (const engine of engines) {
    if (typeof engine !== 'object' || engine === null || typeof engine.evaluate !== 'function')
      throw new ConfigurationError(`${name}(): every entry must be a policy engine with evaluate()`);
  }
}

/** Evaluates one engine, failing closed: a throw or a malformed decision denies with POLICY_ERROR. */
async function ask(engine: PolicyEngine, request: ToolRequest, options: Options): Promise<Decision> {
  try {
    let result: unknown = engine.evaluate(request, options);
    if (isThenable(result)) result = await result;
    return normalizeDecision(result);
  } catch (error) {
    return deny('POLICY_ERROR', `${engineLabel(engine)} failed: ${describeError(error)}`);
  }
}

function withVersion(decision: Decision, version: string): Decision {
  return Object.freeze({ ...decision, policyVersion: version }) as Decision;
}

/** A version derived from the engines' versions; recomputed when one of them changes (hot reload). */
function combinedVersion(kind: string, engines: readonly PolicyEngine[]): () => string {
  let key = '';
  let value = '';
  return () => {
    const next = engines.map((engine) => `${engine.name}=${engine.version ?? ''}`).join('\n');
    if (next !== key) {
      key = next;
      value = sha256Hex(`${kind}\n${next}`);
    }
    return value;
  };
}

async function closeAll(engines: readonly PolicyEngine[]): Promise<void> {
  await Promise.allSettled(engines.map(async (engine) => engine.close?.()));
}
