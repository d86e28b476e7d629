import { AsyncLocalStorage } from 'node:async_hooks';
import type { ApprovalProvider, ApprovalRequest, ApprovalResponse } from '../../approval/types.ts';
import { GuardError } from '../../errors.ts';
import type { CallOptions, Guard, OnDeny, ToolCallOptions, ToolOptions } from '../../guard-types.ts';
import {
  DENY_CODES,
  type DenyCode,
  type JsonObject,
  type ToolContext,
  type ToolDenial,
} from '../../types.ts';

/** A guard of either `onDeny` mode; adapters handle both. */
export type AnyGuard = Guard<'throw'> | Guard<'return'>;

/** The answer a host framework's own approval flow gave for one tool call. */
export interface HostApproval {
  readonly approved: boolean;
  /** Who answered, e.g. `'ai-sdk:user'`. */
  readonly approver: string;
  readonly reason?: string;
  /** Edited arguments (re-validated and re-evaluated by the guard). */
  readonly args?: JsonObject;
}

/** What an adapter knows about the call it is running. */
interface HostCall {
  /** The toolgate name of the tool being called. */
  readonly tool: string;
  /** The framework's answer for this call, consumed by the first approval request that reads it. */
  approval: HostApproval | undefined;
  /** Per-call data for the wrapped function. */
  readonly data: unknown;
}

const hostCalls = new AsyncLocalStorage<HostCall>();

/** Either the tool's value or the readable denial of a call that did not run (or was stopped). */
export type HostCallResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly denial: ToolDenial; readonly error?: unknown };

/**
 * Guards a host framework's tool once, and returns a caller that passes per-call host data
 * (execution options, configs, run contexts) through to `run` without it going through the
 * pipeline (which only carries JSON arguments).
 */
export function guardHostTool<D>(
  tg: AnyGuard,
  options: ToolOptions,
  run: (args: unknown, toolOptions: ToolCallOptions, data: D) => unknown,
): (args: unknown, callOptions: CallOptions, data: D, approval?: HostApproval) => Promise<HostCallResult> {
  const guarded = (tg as Guard<OnDeny>).guard((args: unknown, toolOptions: ToolCallOptions) => {
    const call = hostCalls.getStore();
    if (call === undefined || call.tool !== options.name)
      throw new Error(`toolgate: ${options.name} was called outside its adapter`);
    // Nested guarded calls made by the tool must not see this call's host approval.
    return hostCalls.exit(() => run(args, toolOptions, call.data as D));
  }, options);
  return async (args, callOptions, data, approval) => {
    const call: HostCall = { tool: options.name, approval, data };
    try {
      const value = await hostCalls.run(call, () => guarded(args, callOptions));
      const denial = asDenial(value);
      return denial === undefined ? { ok: true, value } : { ok: false, denial };
    } catch (error) {
      const denial = denialFromError(error);
      if (denial === undefined) throw error;
      return { ok: false, denial, error };
    }
  };
}

/** A ToolDenial for a ToolDeniedError or ToolInterruptedError; undefined for anything else. */
export function denialFromError(error: unknown): ToolDenial | undefined {
  if (!GuardError.isInstance(error)) return undefined;
  const { code, reason, tool, callId } = error as GuardError & Partial<ToolDenial>;
  if (
    !isDenyCode(code) ||
    typeof reason !== 'string' ||
    typeof tool !== 'string' ||
    typeof callId !== 'string'
  )
    return undefined;
  return Object.freeze({ denied: true, code, reason, tool, callId });
}

/** The value as a ToolDenial if it has exactly that shape (the guard's `onDeny: 'return'` result). */
export function asDenial(value: unknown): ToolDenial | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.denied !== true || !isDenyCode(v.code) || typeof v.reason !== 'string' || typeof v.tool !== 'string')
    return undefined;
  return value as ToolDenial;
}

function isDenyCode(code: unknown): code is DenyCode {
  return typeof code === 'string' && (DENY_CODES as readonly string[]).includes(code);
}

/** The guard's own error for a denial, or an Error carrying the same message (for `onDeny: 'return'` guards). */
export function denialError(outcome: { readonly denial: ToolDenial; readonly error?: unknown }): unknown {
  return outcome.error ?? new Error(denialMessage(outcome.denial));
}

/** The sentence a model is shown for a denied call. */
export function denialMessage(denial: Pick<ToolDenial, 'code' | 'reason' | 'tool'>): string {
  return `toolgate denied ${denial.tool} (${denial.code}): ${denial.reason}`;
}

/** Options of the approvers that answer from a host framework's own approval flow. */
export interface HostApproverOptions {
  /** Answers approval requests that have no framework approval (e.g. calls made outside the framework). Without it they are denied. */
  fallback?: ApprovalProvider;
}

/**
 * An approval provider that answers with the approval the host framework already collected for
 * the call being run (single use), and otherwise asks `fallback` or denies.
 */
export function hostApprover(name: string, options: HostApproverOptions, missing: string): ApprovalProvider {
  const fallback = options.fallback;
  return {
    name,
    request(request: ApprovalRequest, signalOptions: { signal: AbortSignal }) {
      const call = hostCalls.getStore();
      const answer = call !== undefined && call.tool === request.tool ? call.approval : undefined;
      if (call !== undefined) call.approval = undefined;
      if (answer === undefined) {
        if (fallback !== undefined) return fallback.request(request, signalOptions);
        return { requestId: request.id, approved: false, approver: name, reason: missing };
      }
      if (!answer.approved) {
        return {
          requestId: request.id,
          approved: false,
          approver: answer.approver,
          reason: answer.reason ?? 'the user denied the call',
        };
      }
      const response: ApprovalResponse = { requestId: request.id, approved: true, approver: answer.approver };
      if (answer.args !== undefined) response.args = answer.args;
      return response;
    },
    close() {
      return fallback?.close?.();
    },
  };
}

/** Resolves host-supplied identity: a fixed context or a function of the framework's call info. */
export function resolveContext<I>(
  option: ToolContext | ((info: I) => ToolContext | undefined) | undefined,
  info: I,
): ToolContext | undefined {
  return typeof option === 'function' ? option(info) : option;
}
