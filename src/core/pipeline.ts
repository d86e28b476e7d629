import { describeError } from '../_internal/describe-error.ts';
import { toolNameProblem } from '../_internal/names.ts';
import type { CallOptions } from '../guard-types.ts';
import { deny } from '../policy/evaluate.ts';
import type { Decision, DenyCode, DenyDecision, ToolContext } from '../types.ts';
import { type Call, Interruption, type StepResult, type ToolDefinition } from './call.ts';
import { at, run, type Steps, stopped } from './driver.ts';
import { denied, interrupted } from './exits.ts';
import type { GuardCore } from './guard-core.ts';
import { approve } from './steps/approve.ts';
import { approver } from './steps/approver.ts';
import { bind } from './steps/bind.ts';
import { context } from './steps/context.ts';
import { decide } from './steps/decide.ts';
import { execute } from './steps/execute.ts';
import { grant } from './steps/grant.ts';
import { limits } from './steps/limits.ts';
import { record } from './steps/record.ts';
import { redact } from './steps/redact.ts';
import { secrets } from './steps/secrets.ts';
import { snapshot } from './steps/snapshot.ts';
import { validate } from './steps/validate.ts';
import { verify } from './steps/verify.ts';

/**
 * The steps of a guarded call, in order, and of a dry run (`tg.check()`), which stops before the
 * approval: one file each in src/core/steps/, named as here (docs/architecture.md). A step gives
 * back `undefined` to go on, a deny that stops the call there (its one decision record), or a
 * promise of either when it had to wait; the driver then resumes the list at the next step.
 * Adding a step is its file, one line here (and the numbers of the lines after it) and its entry
 * in `STEP_FAILURES`.
 *
 * Each step is called directly on a line of its own, numbered in order (`next <= n` skips those
 * done before a wait; `at(call, n)` notes which step runs, for a step that throws): V8 inlines
 * direct calls, not calls through a list of functions, and the difference is 2–3% of an allowed
 * call (docs/performance.md, "The pipeline as a list of steps"). test/core/pipeline.test.ts holds
 * the numbers and the names in order.
 */
function stepList(call: Call, core: GuardCore, next: number): StepResult | Promise<StepResult> {
  let step: StepResult | Promise<StepResult>;
  // biome-ignore-start lint/suspicious/noAssignInExpressions: one line per step keeps the list readable
  // host context merged and frozen, call depth, not already cancelled
  if (next <= 0 && (step = context(at(call, 0), core)) !== undefined) return stopped(call, 0, step);
  // the agent credential: verified, in scope for the tool, its claims set the context
  if (next <= 1 && (step = verify(at(call, 1), core)) !== undefined) return stopped(call, 1, step);
  // deep clone + freeze of the args: the only args anyone sees from here on
  if (next <= 2 && (step = snapshot(at(call, 2), core)) !== undefined) return stopped(call, 2, step);
  // the tool's input schema
  if (next <= 3 && (step = validate(at(call, 3), core)) !== undefined) return stopped(call, 3, step);
  // the args as records and approvers show them
  if (next <= 4 && (step = redact(at(call, 4), core)) !== undefined) return stopped(call, 4, step);
  // the policy engine, and whether the guard can enforce its decision
  if (next <= 5 && (step = decide(at(call, 5), core)) !== undefined) return stopped(call, 5, step);
  // a live grant turns a default deny or an ask into allow; any other deny stops here
  if (next <= 6 && (step = grant(at(call, 6), core)) !== undefined) return stopped(call, 6, step);
  // an ask needs an approver
  if (next <= 7 && (step = approver(at(call, 7), core)) !== undefined) return stopped(call, 7, step);
  // the tool's declared secrets are bound to it and to the call's principal
  if (next <= 8 && (step = bind(at(call, 8), core)) !== undefined) return stopped(call, 8, step);
  // suspensions and credential revocations, rate, concurrency and budget, via the state store
  if (next <= 9 && (step = limits(at(call, 9), core)) !== undefined) return stopped(call, 9, step);
  // A dry run ends here: nobody is asked, nothing is recorded, an ask comes back as it is.
  if (call.peek) return undefined;
  // only for an ask: a human, bound to the args hash; then the credential checked again
  if (next <= 10 && (step = approve(at(call, 10), core)) !== undefined) return stopped(call, 10, step);
  // the tool's declared secrets, fetched from the provider
  if (next <= 11 && (step = secrets(at(call, 11), core)) !== undefined) return stopped(call, 11, step);
  // the decision record (durably first in fail-closed mode)
  if (next <= 12 && (step = record(at(call, 12), core)) !== undefined) return stopped(call, 12, step);
  // biome-ignore-end lint/suspicious/noAssignInExpressions: one line per step keeps the list readable
  return undefined;
  // …then `execute` (src/core/steps/execute.ts): the tool, the output obligations, the result record.
}

/**
 * What a step that throws or rejects denies with, by its number: none of them throws on purpose
 * (each turns what can go wrong into its own deny), so a throw is a host component failing in a
 * way the step did not foresee (a getter that throws on an answer, a Proxy): the call is denied
 * with the code of what that step asks, recorded, and anything the limits step took is given back.
 */
const STEP_FAILURES: readonly (readonly [step: string, code: DenyCode])[] = [
  ['context', 'INVALID_CONTEXT'],
  ['verify', 'STORE_UNAVAILABLE'],
  ['snapshot', 'INVALID_ARGS'],
  ['validate', 'INVALID_ARGS'],
  ['redact', 'AUDIT_UNAVAILABLE'],
  ['decide', 'POLICY_ERROR'],
  ['grant', 'STORE_UNAVAILABLE'],
  ['approver', 'APPROVAL_ERROR'],
  ['bind', 'SECRET_UNAVAILABLE'],
  ['limits', 'STORE_UNAVAILABLE'],
  ['approve', 'APPROVAL_ERROR'],
  ['secrets', 'SECRET_UNAVAILABLE'],
  ['record', 'AUDIT_UNAVAILABLE'],
];

/** The deny of a call whose step `call.at` threw `error` (see `STEP_FAILURES`). */
function stepFailed(call: Call, error: unknown): DenyDecision {
  const [step, code] = STEP_FAILURES[call.at] ?? ['unknown', 'POLICY_ERROR'];
  return deny(code, `the ${step} step failed: ${describeError(error)}`);
}

/** The step list with what a failing step denies: what the driver runs. */
const steps: Steps = Object.assign(stepList, { failed: stepFailed });

/** Runs one guarded call. Resolves with the tool's result or a denial; rejects with ToolDeniedError. */
export function runCall(
  core: GuardCore,
  definition: ToolDefinition,
  rawArgs: unknown,
  options: CallOptions | undefined,
): Promise<unknown> {
  return run(steps, endCall, core, definition, rawArgs, options, 'call');
}

/** After the steps: the tool runs, or the call ends where a step stopped it. */
function endCall(call: Call, core: GuardCore, stop: StepResult): unknown {
  if (stop === undefined) return execute(call, core);
  return stop instanceof Interruption ? interrupted(call, core, stop) : denied(call, core, stop);
}

/** Runs `tg.check()` for a tool by name: the decision a call would get now. */
export function runCheck(
  core: GuardCore,
  tool: string,
  definition: ToolDefinition | undefined,
  rawArgs: unknown,
  context: ToolContext | undefined,
): Promise<Decision> {
  const nameProblem = toolNameProblem(tool);
  if (nameProblem !== undefined) return Promise.resolve(deny('UNKNOWN_TOOL', nameProblem));
  if (definition === undefined)
    return Promise.resolve(deny('UNKNOWN_TOOL', `no tool named ${JSON.stringify(tool)} is guarded here`));
  return run(
    steps,
    endCheck,
    core,
    definition,
    rawArgs,
    context === undefined ? undefined : { context },
    'dry-run',
  );
}

/** A dry run ends with the decision as it stands, or the deny that stopped it. */
function endCheck(call: Call, _core: GuardCore, stop: StepResult): Decision {
  return stop === undefined ? call.decision! : (stop as DenyDecision);
}
