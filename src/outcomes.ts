import { performance } from 'node:perf_hooks';
import { type Deadline, deadline } from './_internal/deadlines.ts';
import { isThenable } from './_internal/fail-closed.ts';
import { LazyAbort } from './_internal/lazy-abort.ts';
import type { AuditDispatcher } from './audit/dispatch.ts';
import type { ResultEvent } from './audit/types.ts';
import { type Call, ToolOptions } from './call.ts';
import { type Scope, scopeStorage } from './context.ts';
import { ToolDeniedError, ToolInterruptedError } from './errors.ts';
import { capOutput, hasOutputCaps } from './limits/output.ts';
import type { ToolDefinition } from './pipeline.ts';
import type { CallRecords } from './records.ts';
import type { Decision, DenyDecision, ToolDenial } from './types.ts';

/**
 * How a call ends (steps 7–9 of the pipeline, src/pipeline.ts): the tool runs once with its
 * timeout and the caller's signal, output caps apply, the result is recorded; or the call is
 * denied (its one decision record) or interrupted after it was allowed. Every exit gives back
 * what the limits step took.
 */
export class CallOutcomes {
  constructor(
    private readonly records: CallRecords,
    private readonly audit: AuditDispatcher,
    private readonly onDeny: 'throw' | 'return',
  ) {}

  execute(
    definition: ToolDefinition,
    call: Call,
    decision: Decision,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<unknown> | unknown {
    const controller = new LazyAbort();
    const toolOptions = new ToolOptions(
      call,
      controller,
      decision.type === 'deny' ? undefined : decision.obligations,
    );
    const scope: Scope = { context: call.context, callId: call.callId, depth: call.depth + 1 };
    const execStarted = performance.now();
    let returned: unknown;
    let thenable: boolean;
    try {
      returned = scopeStorage.run(scope, () => definition.fn(call.args, toolOptions));
      // Inside the try: a result whose `then` getter throws is a tool error, still recorded once.
      thenable = isThenable(returned);
    } catch (error) {
      this.recordResult(call, 'error', execStarted, undefined, error);
      throw error;
    }
    if (!thenable) return this.finishOk(call, decision, execStarted, returned);
    return new Running(this, call, decision, controller, signal, execStarted, timeoutMs).wait(
      returned as PromiseLike<unknown>,
    );
  }

  /** Step 8: output caps (`maxRows`, `maxBytes`, src/limits/output.ts), then the result record. */
  finishOk(call: Call, decision: Decision, execStarted: number, value: unknown): unknown {
    const obligations = decision.type === 'deny' ? undefined : decision.obligations;
    if (obligations === undefined || !hasOutputCaps(obligations)) {
      this.recordResult(call, 'ok', execStarted, value);
      return value;
    }
    const capped = capOutput(value, obligations);
    call.outputCut = capped.cut;
    if (capped.ok) {
      this.recordResult(call, 'ok', execStarted, capped.value);
      return capped.value;
    }
    const withheld = new Error(capped.reason);
    withheld.name = 'OutputWithheld';
    this.recordResult(call, 'error', execStarted, undefined, withheld);
    return this.interrupted(call, 'DENIED_BY_RULE', capped.reason, decision, true);
  }

  /** Step 9: gives back what the limits step took, then records the result. */
  recordResult(
    call: Call,
    outcome: ResultEvent['outcome'],
    execStarted: number,
    output?: unknown,
    error?: unknown,
  ): void {
    call.lease?.release(true);
    this.records.result(call, outcome, execStarted, output, error);
  }

  /** Records the single decision record of a denied call, then throws or returns the denial. */
  denied(call: Call, decision: DenyDecision, policyDecision: Decision['type']): never | ToolDenial {
    call.lease?.release(false);
    const event = this.records.decision(call, decision, policyDecision);
    this.audit.record(event);
    this.records.emit('decision', event);
    if (this.onDeny === 'return') return denial(decision.code, decision.reason, call, decision.retryAfterMs);
    throw new ToolDeniedError({
      code: decision.code,
      tool: call.tool.name,
      callId: call.callId,
      reason: decision.reason,
      decision,
    });
  }

  /** A call stopped after it was allowed (audit failure, cancellation, timeout). */
  interrupted(
    call: Call,
    code: 'AUDIT_UNAVAILABLE' | 'CANCELLED' | 'TIMEOUT' | 'DENIED_BY_RULE',
    reason: string,
    decision: Decision,
    ran: boolean,
  ): never | ToolDenial {
    call.lease?.release(ran);
    if (this.onDeny === 'return') return denial(code, reason, call);
    throw new ToolInterruptedError({
      code,
      tool: call.tool.name,
      callId: call.callId,
      reason,
      decision,
      ran,
    });
  }
}

function denial(code: ToolDenial['code'], reason: string, call: Call, retryAfterMs?: number): ToolDenial {
  const result: { -readonly [K in keyof ToolDenial]: ToolDenial[K] } = {
    denied: true,
    code,
    reason,
    tool: call.tool.name,
    callId: call.callId,
  };
  if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
  return Object.freeze(result);
}

/**
 * A tool's returned promise, raced against the call's timeout and the caller's signal: whichever
 * comes first settles the call, once. One object per call rather than a closure per outcome.
 */
class Running {
  private settled = false;
  private resolve: (value: unknown) => void = noop;
  private reject: (error: unknown) => void = noop;
  private timer: Deadline | undefined;
  private onAbort: (() => void) | undefined;

  constructor(
    private readonly outcomes: CallOutcomes,
    private readonly call: Call,
    private readonly decision: Decision,
    private readonly controller: LazyAbort,
    private readonly signal: AbortSignal | undefined,
    private readonly execStarted: number,
    private readonly timeoutMs: number,
  ) {}

  wait(returned: PromiseLike<unknown>): Promise<unknown> {
    const promise = new Promise<unknown>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    try {
      this.timer = deadline(this.timeoutMs, () => this.timedOut(), this.execStarted);
      const signal = this.signal;
      if (signal !== undefined) {
        this.onAbort = () => this.aborted();
        signal.addEventListener('abort', this.onAbort, { once: true });
        // The caller may have aborted while the tool's synchronous part ran; that event is gone.
        if (signal.aborted) this.aborted();
      }
    } catch (error) {
      // A caller's signal that is not a working AbortSignal: the call fails, and says so once. If
      // it failed while already settling (its abort path), the call still settles.
      if (this.settled) this.reject(error);
      else this.failed(error);
      return promise;
    }
    Promise.resolve(returned).then(
      (value) => this.returned(value),
      (error: unknown) => this.failed(error),
    );
    return promise;
  }

  /** Marks the call settled and stops the other racers; false when it already was. */
  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.timer?.cancel();
    if (this.onAbort !== undefined) {
      try {
        this.signal?.removeEventListener('abort', this.onAbort);
      } catch {
        // The listener was added; a signal that cannot remove it only keeps a settled callback.
      }
    }
    return true;
  }

  private returned(value: unknown): void {
    if (!this.finish()) return;
    this.settle(() => this.outcomes.finishOk(this.call, this.decision, this.execStarted, value));
  }

  private failed(error: unknown): void {
    if (!this.finish()) return;
    this.outcomes.recordResult(this.call, 'error', this.execStarted, undefined, error);
    this.reject(error);
  }

  private aborted(): void {
    if (!this.finish()) return;
    let reason: unknown;
    try {
      reason = this.signal?.reason;
    } catch (error) {
      reason = error;
    }
    this.controller.abort(reason);
    this.outcomes.recordResult(this.call, 'cancelled', this.execStarted);
    this.settle(() =>
      this.outcomes.interrupted(
        this.call,
        'CANCELLED',
        'the call was cancelled while it ran',
        this.decision,
        true,
      ),
    );
  }

  private timedOut(): void {
    if (!this.finish()) return;
    const { call, timeoutMs } = this;
    this.controller.abort(new Error(`toolgate: ${call.tool.name} timed out after ${timeoutMs} ms`));
    this.outcomes.recordResult(call, 'timeout', this.execStarted);
    this.settle(() =>
      this.outcomes.interrupted(
        call,
        'TIMEOUT',
        `the tool ran past its timeout of ${timeoutMs} ms`,
        this.decision,
        true,
      ),
    );
  }

  /** Resolves with what `fn` returns (a result or a denial), or rejects with what it throws. */
  private settle(fn: () => unknown): void {
    try {
      this.resolve(fn());
    } catch (error) {
      this.reject(error);
    }
  }
}

function noop(): void {}
