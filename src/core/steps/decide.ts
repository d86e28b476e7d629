import { describeError } from '../../_internal/describe-error.ts';
import { normalizeRequirements } from '../../approval/requirements.ts';
import { redactPathsProblem } from '../../audit/redact.ts';
import { outputCapsProblem } from '../../limits/output.ts';
import { deny, engineLabel, evaluatePolicy } from '../../policy/evaluate.ts';
import type { Decision, DenyDecision } from '../../types.ts';
import { type Call, requestOf, type StepResult } from '../call.ts';
import { after } from '../driver.ts';
import type { GuardCore } from '../guard-core.ts';

/** Obligations the guard enforces; an engine asking for anything else gets a deny, never a silent allow. */
const SUPPORTED_OBLIGATIONS: ReadonlySet<string> = new Set(['timeout', 'redact', 'maxRows', 'maxBytes']);

/**
 * The policy engine's decision for the frozen args (any throw, timeout or malformed answer
 * denies), judged whole before anything is consumed or anyone is asked: a decision the guard
 * cannot enforce (an unknown or malformed obligation, a malformed approval requirement) denies
 * here. An engine's deny goes on to the grant step, which may still turn a default deny into
 * allow. `POLICY_ERROR`, `POLICY_TIMEOUT`, `CANCELLED`.
 */
export function decide(call: Call, core: GuardCore): StepResult | Promise<StepResult> {
  return after(evaluate(call, core), call, core, decided);
}

function decided(call: Call, core: GuardCore, decision: Decision): StepResult {
  call.policyDecision = decision.type;
  const version = policyVersion(decision, core);
  call.policyVersion = typeof version === 'string' ? version : undefined;
  const refused =
    hostFault(call, core) ?? (typeof version === 'object' ? version : undefined) ?? refusal(decision, core);
  call.decision = refused ?? decision;
  return refused;
}

/**
 * The deny (`POLICY_ERROR`) of a call during which the host's clock or id generator failed, up to
 * its decision: the guard put its own time or id in (src/_internal/host-functions.ts), so what
 * was decided is not what the host meant. A fault in another call meanwhile counts too: the
 * clock is the guard's, and a guard whose clock fails denies until it answers again.
 */
function hostFault(call: Call, core: GuardCore): DenyDecision | undefined {
  const host = core.host;
  if (host.faults === call.hostFaultsAtStart) return undefined;
  return deny(
    'POLICY_ERROR',
    `the guard's ${host.lastFault}; the call is denied rather than decided on a stand-in`,
  );
}

/** Asks the engine, failing closed (src/policy/evaluate.ts), for the call's current args. */
export function evaluate(call: Call, core: GuardCore): Decision | Promise<Decision> {
  const signal = call.signal;
  // Without a caller's signal every call shares one options object: one allocation less per call
  // (docs/performance.md, "The pipeline as a list of steps").
  const options =
    signal === undefined ? core.policyOptions : { timeoutMs: core.defaults.policyTimeoutMs, signal };
  return evaluatePolicy(core.policy, requestOf(call, core.now), options);
}

/**
 * The policy version the call is recorded under: the decision's, else the engine's as it reads now
 * (it changes on a reload). A version the engine cannot give (its getter throws) or that is no
 * string denies `POLICY_ERROR`: a record must say which policy decided.
 */
function policyVersion(decision: Decision, core: GuardCore): string | undefined | DenyDecision {
  if (decision.policyVersion !== undefined) return decision.policyVersion;
  let version: unknown;
  try {
    version = core.policy.version;
  } catch (error) {
    return deny(
      'POLICY_ERROR',
      `${engineLabel(core.policy)} could not give its version: ${describeError(error)}`,
    );
  }
  if (version === undefined || typeof version === 'string') return version;
  return deny(
    'POLICY_ERROR',
    `${engineLabel(core.policy)} gave a version that is no string (${typeof version})`,
  );
}

/** `decision` itself when the guard can enforce all of it; otherwise the deny (`POLICY_ERROR`). */
export function enforceable(decision: Decision, core: GuardCore): Decision {
  return refusal(decision, core) ?? decision;
}

/** The deny (`POLICY_ERROR`) of a decision the guard cannot enforce, or undefined. */
function refusal(decision: Decision, core: GuardCore): DenyDecision | undefined {
  const problem = enforcementProblem(decision, core.defaults.approvalTimeoutMs);
  return problem === undefined ? undefined : deny('POLICY_ERROR', problem, decision.rules);
}

/** Why the guard cannot enforce `decision`, or undefined. */
function enforcementProblem(decision: Decision, approvalTimeoutMs: number): string | undefined {
  if (decision.type === 'deny') return undefined;
  const obligations = decision.obligations;
  if (obligations !== undefined) {
    for (const key of Object.keys(obligations)) {
      if (!SUPPORTED_OBLIGATIONS.has(key)) return `obligation ${key} is not enforced by this guard`;
    }
    const timeout = obligations.timeout;
    if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0)))
      return 'obligation timeout must be milliseconds';
    const caps = outputCapsProblem(obligations);
    if (caps !== undefined) return caps;
    if (obligations.redact !== undefined) {
      const paths = redactPathsProblem(obligations.redact);
      if (paths !== undefined) return paths;
    }
  }
  if (decision.type === 'ask') {
    const requirements = normalizeRequirements(decision.approval, approvalTimeoutMs);
    if (typeof requirements === 'string') return requirements;
  }
  return undefined;
}
