import type { ApprovalProvider, ApprovalRequest, ApprovalResponse } from '../approval/types.ts';
import type { Awaitable, JsonObject } from '../types.ts';

/** A controllable clock for `createGuard({ now })`. */
export interface FakeClock {
  /** The current time in epoch ms; pass `clock.now` as the guard's `now`. */
  readonly now: () => number;
  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void;
  /** Sets the time. */
  set(epochMs: number): void;
}

/**
 * A fake clock starting at `start` (default 2026-01-01T00:00:00Z). It never moves by itself.
 *
 * @example
 * const clock = fakeClock();
 * const tg = createGuard({ policy, now: clock.now });
 * clock.advance(60_000);
 */
export function fakeClock(start: number | Date = Date.UTC(2026, 0, 1)): FakeClock {
  let current = typeof start === 'number' ? start : start.getTime();
  return {
    now: () => current,
    advance(ms) {
      current += ms;
    },
    set(epochMs) {
      current = epochMs;
    },
  };
}

/** One scripted answer: a response builder, or a function that does anything (throw, hang, …). */
export type ScriptedAnswer =
  | 'approve'
  | 'deny'
  | { approve: true; approver?: string; args?: JsonObject }
  | { approve: false; approver?: string; reason?: string }
  | ((request: ApprovalRequest, options: { signal: AbortSignal }) => Awaitable<unknown>);

/** An approver that answers from a script, in order, and records every request it saw. */
export interface ScriptedApprover extends ApprovalProvider {
  /** Every request received, in order. */
  readonly requests: ApprovalRequest[];
  /** Answers still unused. */
  readonly remaining: number;
}

/**
 * An approver for tests that answers each request with the next scripted answer. When the script
 * runs out, it denies (never approves by accident).
 *
 * @example
 * const approver = scriptedApprover(['approve', { approve: false, reason: 'too big' }]);
 */
export function scriptedApprover(
  script: readonly ScriptedAnswer[],
  options: { approver?: string } = {},
): ScriptedApprover {
  const queue = [...script];
  const requests: ApprovalRequest[] = [];
  const defaultApprover = options.approver ?? 'tester';
  return {
    name: 'scripted',
    requests,
    get remaining() {
      return queue.length;
    },
    request(request, requestOptions) {
      requests.push(request);
      const answer = queue.shift();
      if (answer === undefined) {
        return {
          requestId: request.id,
          approved: false,
          approver: defaultApprover,
          reason: 'script exhausted',
        };
      }
      if (typeof answer === 'function') return answer(request, requestOptions) as Awaitable<ApprovalResponse>;
      if (answer === 'approve') return { requestId: request.id, approved: true, approver: defaultApprover };
      if (answer === 'deny')
        return { requestId: request.id, approved: false, approver: defaultApprover, reason: 'denied' };
      if (answer.approve) {
        const response: ApprovalResponse = {
          requestId: request.id,
          approved: true,
          approver: answer.approver ?? defaultApprover,
        };
        if (answer.args !== undefined) response.args = answer.args;
        return response;
      }
      return {
        requestId: request.id,
        approved: false,
        approver: answer.approver ?? defaultApprover,
        reason: answer.reason ?? 'denied',
      };
    },
  };
}
