import { performance } from 'node:perf_hooks';
import { deadline } from './_internal/deadlines.ts';
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
    return new Promise((resolve, reject) => {
      let settled = false;
      const cleanup = () => {
        settled = true;
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        if (settled) return;
        cleanup();
        controller.abort(signal?.reason);
        this.recordResult(call, 'cancelled', execStarted);
        settle(resolve, reject, () =>
          this.interrupted(call, 'CANCELLED', 'the call was cancelled while it ran', decision, true),
        );
      };
      const timer = deadline(
        timeoutMs,
        () => {
          if (settled) return;
          cleanup();
          controller.abort(new Error(`toolgate: ${call.tool.name} timed out after ${timeoutMs} ms`));
          this.recordResult(call, 'timeout', execStarted);
          settle(resolve, reject, () =>
            this.interrupted(
              call,
              'TIMEOUT',
              `the tool ran past its timeout of ${timeoutMs} ms`,
              decision,
              true,
            ),
          );
        },
        execStarted,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      // The caller may have aborted while the tool's synchronous part ran; that event is gone.
      if (signal?.aborted) onAbort();
      Promise.resolve(returned).then(
        (value) => {
          if (settled) return;
          cleanup();
          settle(resolve, reject, () => this.finishOk(call, decision, execStarted, value));
        },
        (error: unknown) => {
          if (settled) return;
          cleanup();
          this.recordResult(call, 'error', execStarted, undefined, error);
          reject(error);
        },
      );
    });
  }

  /** Step 8: output caps (`maxRows`, `maxBytes`, src/limits/output.ts), then the result record. */
  private finishOk(call: Call, decision: Decision, execStarted: number, value: unknown): unknown {
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
  private recordResult(
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

function settle(
  resolve: (value: unknown) => void,
  reject: (error: unknown) => void,
  fn: () => unknown,
): void {
  try {
    resolve(fn());
  } catch (error) {
    reject(error);
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
