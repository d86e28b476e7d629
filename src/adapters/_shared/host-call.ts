import { AsyncLocalStorage } from 'node:async_hooks';
import { describeError } from '../../_internal/describe-error.ts';
import { reportWarning } from '../../_internal/guard-warnings.ts';
import { ContextFailure } from '../../context.ts';
import type { CallOptions, Guard, OnDeny, ToolCallOptions, ToolOptions } from '../../guard-types.ts';
import type { DenyCode, JsonObject, ToolContext, ToolDenial } from '../../types.ts';
import { asDenial, denialFromError } from './denials.ts';

/** A guard of either `onDeny` mode; adapters handle both. */
export type AnyGuard = Guard<'throw'> | Guard<'return'>;

/** The adapters, by the name their approver and warnings carry. */
export type AdapterName = 'ai-sdk' | 'langchain' | 'openai-agents';

/** The answer a host framework's own approval flow gave for one tool call. */
export interface HostApproval {
  readonly approved: boolean;
  /** Who answered, e.g. `'user:ops-alice'` (or `'ai-sdk:user'` when the app did not say). */
  readonly approver: string;
  readonly reason?: string;
  /** Edited arguments (re-validated and re-evaluated by the guard). */
  readonly args?: JsonObject;
  /** Reported once when the guard uses this answer: it reached the framework past the adapter's helper. */
  readonly bypassed?: MissingAnswer;
}

/** A wiring mistake to report when the adapter approver is asked and has no framework answer. */
export interface MissingAnswer {
  readonly code: string;
  readonly message: string;
}

/** What an adapter adds to one guarded call besides its arguments. */
export interface HostCallExtras {
  /** The framework's answer for this call, consumed by the first approval request that reads it. */
  readonly approval?: HostApproval | undefined;
  /**
   * The framework will not run this call (a person rejected it, or toolgate denied it up front):
   * the guard decides and records it, and the tool never runs. If the policy would allow it now,
   * the call is recorded as not run, with this code and reason.
   */
  readonly notRun?: { readonly code: DenyCode; readonly reason: string } | undefined;
  /** What to report if the adapter approver is asked and has no answer (a function: built only then). */
  readonly missing?: MissingAnswer | (() => MissingAnswer) | undefined;
}

/** What an adapter knows about the call it is running. */
export interface HostCall extends HostCallExtras {
  readonly guard: AnyGuard;
  readonly adapter: AdapterName;
  /** The toolgate name of the tool being called. */
  readonly tool: string;
  readonly toolCallId: string | undefined;
  approval: HostApproval | undefined;
  /** Per-call data for the wrapped function. */
  readonly data: unknown;
  /** The guard raised an approval request for this call (to any approver). */
  asked: boolean;
  /** The adapter's approver read the framework's answer. */
  used: boolean;
}

const hostCalls = new AsyncLocalStorage<HostCall>();

/** Either the tool's value or the denial of a call that did not run (or was stopped). */
export type HostCallResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly denial: ToolDenial; readonly error?: unknown };

/** A guarded host tool: call it with the framework's arguments, call options and per-call data. */
export type HostToolCaller<D> = (
  args: unknown,
  callOptions: CallOptions,
  data: D,
  extras?: HostCallExtras,
) => Promise<HostCallResult>;

/** Thrown inside the guard when a call the framework will not run was allowed by the policy. */
class NotRun extends Error {
  constructor(
    readonly code: DenyCode,
    readonly reason: string,
    readonly callId: string,
  ) {
    super(`not run: ${reason}`);
    this.name = 'ToolNotRun';
  }
}

const APPROVERS: Record<AdapterName, string> = {
  'ai-sdk': 'aiSdkApprover()',
  langchain: 'langchainApprover()',
  'openai-agents': 'agentsApprover()',
};

const watched = new WeakSet<object>();

/**
 * Guards a host framework's tool once, and returns a caller that passes per-call host data
 * (execution options, configs, run contexts) through to `run` without it going through the
 * pipeline (which only carries JSON arguments).
 */
export function guardHostTool<D>(
  tg: AnyGuard,
  adapter: AdapterName,
  options: ToolOptions,
  run: (args: unknown, toolOptions: ToolCallOptions, data: D) => unknown,
): HostToolCaller<D> {
  watchApprovalRequests(tg);
  const guarded = (tg as Guard<OnDeny>).guard((args: unknown, toolOptions: ToolCallOptions) => {
    const call = hostCalls.getStore();
    if (call === undefined || call.tool !== options.name)
      throw new Error(`toolgate: ${options.name} was called outside its adapter`);
    // The framework will not run this call: the guard has decided and recorded it; stop here.
    if (call.notRun !== undefined) throw new NotRun(call.notRun.code, call.notRun.reason, toolOptions.callId);
    // Nested guarded calls made by the tool must not see this call's host approval.
    return hostCalls.exit(() => run(args, toolOptions, call.data as D));
  }, options);
  return async (args, callOptions, data, extras = {}) => {
    // One shape for every call (no spread): this object is made on the allow path.
    const call: HostCall = {
      guard: tg,
      adapter,
      tool: options.name,
      toolCallId: callOptions.toolCallId,
      approval: extras.approval,
      notRun: extras.notRun,
      missing: extras.missing,
      data,
      asked: false,
      used: false,
    };
    let result: HostCallResult;
    try {
      const value = await hostCalls.run(call, () => guarded(args, callOptions));
      const denial = asDenial(value);
      result = denial === undefined ? { ok: true, value } : { ok: false, denial };
    } catch (error) {
      if (error instanceof NotRun) {
        const { code, reason, callId } = error;
        result = {
          ok: false,
          denial: Object.freeze({ denied: true, code, reason, tool: options.name, callId, failed: [] }),
        };
      } else {
        const denial = denialFromError(error);
        if (denial === undefined) throw error;
        result = { ok: false, denial, error };
      }
    }
    checkAnswerUsed(call, result);
    return result;
  };
}

/** Sets `asked` on the adapter call an approval request belongs to (one listener per guard). */
function watchApprovalRequests(tg: AnyGuard): void {
  if (watched.has(tg)) return;
  watched.add(tg);
  (tg as Guard<OnDeny>).on('approval-request', () => {
    const call = hostCalls.getStore();
    if (call !== undefined) call.asked = true;
  });
}

/** A person answered in the framework, but the guard did not take that answer: a wiring mistake. */
function checkAnswerUsed(call: HostCall, result: HostCallResult): void {
  if (call.approval === undefined || call.used) return;
  const approver = APPROVERS[call.adapter];
  const base = { source: call.adapter, tool: call.tool, ...optionalId(call.toolCallId) };
  if (!result.ok && result.denial.code === 'NO_APPROVER') {
    reportWarning(call.guard, {
      ...base,
      code: 'NO_APPROVER',
      message: `a person answered ${call.tool} in the framework's approval flow, but the guard has no approver, so the call was denied: create the guard with approver: ${approver}`,
    });
  } else if (call.asked) {
    reportWarning(call.guard, {
      ...base,
      code: 'APPROVER_NOT_ADAPTER',
      message: `a person answered ${call.tool} in the framework's approval flow, but the guard asked its own approver instead: create the guard with approver: ${approver} (pass your approver as its fallback)`,
    });
  }
}

/**
 * The framework's approval flow would ask a person about `tool`, but the guard's dry run answered
 * `NO_APPROVER`: the call is denied before anyone is asked (a person's answer could not be taken).
 */
export function reportNoApprover(
  guard: object,
  adapter: AdapterName,
  tool: string,
  toolCallId: string | undefined,
): void {
  reportWarning(guard, {
    source: adapter,
    tool,
    ...optionalId(toolCallId),
    code: 'NO_APPROVER',
    message: `${tool} asks for approval, but the guard has no approver, so the call is denied before anyone is asked: create the guard with approver: ${APPROVERS[adapter]}`,
  });
}

/** The adapter call running in this async context, if any (for the adapter approvers). */
export function currentHostCall(): HostCall | undefined {
  return hostCalls.getStore();
}

/** `{ toolCallId }` when there is one (for warnings). */
export function optionalId(toolCallId: string | undefined): { toolCallId?: string } {
  return toolCallId === undefined ? {} : { toolCallId };
}

/**
 * Resolves host-supplied identity: a fixed context or a function of the framework's call info.
 * A function that throws gives a `ContextFailure`, which the guard denies `INVALID_CONTEXT` and
 * records, as it does a context it cannot read in a direct call (the tool never runs).
 */
export function resolveContext<I>(
  option: ToolContext | ((info: I) => ToolContext | undefined) | undefined,
  info: I,
): ToolContext | undefined {
  if (typeof option !== 'function') return option;
  try {
    return option(info);
  } catch (error) {
    return new ContextFailure(`the context function threw (${describeError(error)})`) as ToolContext;
  }
}
