import { performance } from 'node:perf_hooks';
import { type Deadline, deadline } from '../../_internal/deadlines.ts';
import { isThenable } from '../../_internal/fail-closed.ts';
import { LazyAbort } from '../../_internal/lazy-abort.ts';
import { shownError } from '../../audit/shown.ts';
import type { ResultEvent } from '../../audit/types.ts';
import { runInScope, type Scope } from '../../context.ts';
import { capOutput, hasOutputCaps } from '../../limits/output.ts';
import { scrubResult } from '../../secrets/scrub-result.ts';
import type { Obligations } from '../../types.ts';
import { type Call, Interruption, LazyToolCallOptions } from '../call.ts';
import { interrupted } from '../exits.ts';
import type { GuardCore } from '../guard-core.ts';

/**
 * The tool, exactly once, with the frozen args, the call's timeout (the default or a tighter
 * `timeout` obligation) and an AbortSignal; then the output obligations (`maxRows`, `maxBytes`)
 * and the call's one result record. Gives back the tool's value (or a promise of it); a throw or
 * rejection of the tool is rethrown as it is. `CANCELLED` and `TIMEOUT` stop a call that ran.
 */
export function execute(call: Call, core: GuardCore): unknown {
  if (call.signal?.aborted)
    return interrupted(
      call,
      core,
      new Interruption('CANCELLED', 'the call was cancelled before it ran', 'not-run'),
    );
  const obligations = obligationsOf(call);
  const controller = new LazyAbort();
  const toolOptions = new LazyToolCallOptions(call, controller, obligations);
  // Guarded calls the tool makes present the same credential (verified again, warm).
  const scope: Scope = {
    context: call.context,
    callId: call.callId,
    depth: call.depth + 1,
    credential: call.credential,
  };
  const execStarted = performance.now();
  let returned: unknown;
  let thenable: boolean;
  try {
    returned = runInScope(scope, call.definition.fn, call.args, toolOptions);
    // Inside the try: a result whose `then` getter throws is a tool error, still recorded once.
    thenable = isThenable(returned);
  } catch (thrown) {
    // What the tool threw goes back redacted, as it is recorded.
    const error = shownError(thrown, core.audit.redactor, core.secrets?.scrubber);
    recordResult(call, core, 'error', execStarted, undefined, error);
    throw error;
  }
  if (!thenable) return finishOk(call, core, execStarted, returned);
  const timeoutMs = obligations?.timeout ?? core.defaults.timeoutMs;
  return new Running(call, core, controller, execStarted, timeoutMs).wait(returned as PromiseLike<unknown>);
}

function obligationsOf(call: Call): Obligations | undefined {
  const decision = call.decision!;
  return decision.type === 'deny' ? undefined : decision.obligations;
}

/**
 * Output caps (`maxRows`, `maxBytes`, src/limits/output.ts), then the result record. A result that
 * cannot be read on the way (a getter that throws, a Proxy) is withheld: recorded as an error,
 * and the call rejects with a plain Error saying so (never with what the getter threw, which could
 * carry what scrubbing and redaction were to remove).
 */
function finishOk(call: Call, core: GuardCore, execStarted: number, returned: unknown): unknown {
  let outcome: unknown;
  try {
    outcome = finishValue(call, core, execStarted, returned);
  } catch {
    const withheld = new Error(UNREADABLE_RESULT);
    withheld.name = 'OutputWithheld';
    recordResult(call, core, 'error', execStarted, undefined, withheld);
    throw withheld;
  }
  // A cap withheld it (recorded): the call ends as the obligation says. (Compared by identity:
  // `instanceof` on the tool's own value could run a Proxy trap.)
  if (outcome === WITHHELD)
    return interrupted(call, core, new Interruption('DENIED_BY_RULE', call.withheldBecause!, 'ran'));
  return outcome;
}

/** What `finishValue` gives back when a cap withheld the result (`call.withheldBecause` says why). */
const WITHHELD: unique symbol = Symbol('withheld');

/** What goes back in place of a result that could not be read. */
const UNREADABLE_RESULT =
  "toolgate: the tool's result could not be read (a getter that throws, a Proxy); it is withheld";

function finishValue(call: Call, core: GuardCore, execStarted: number, returned: unknown): unknown {
  // With secrets, what the tool returns goes back scrubbed of every value handed out.
  const value = core.secrets === undefined ? returned : scrubResult(returned, core.secrets.scrubber);
  const obligations = obligationsOf(call);
  if (obligations === undefined || !hasOutputCaps(obligations)) {
    recordResult(call, core, 'ok', execStarted, value);
    return value;
  }
  const capped = capOutput(value, obligations);
  call.outputCut = capped.cut;
  if (capped.ok) {
    recordResult(call, core, 'ok', execStarted, capped.value);
    return capped.value;
  }
  const withheld = new Error(capped.reason);
  withheld.name = 'OutputWithheld';
  recordResult(call, core, 'error', execStarted, undefined, withheld);
  call.withheldBecause = capped.reason;
  return WITHHELD;
}

/** Gives back what the limits step took (the tool ran), then records the result. */
function recordResult(
  call: Call,
  core: GuardCore,
  outcome: ResultEvent['outcome'],
  execStarted: number,
  output?: unknown,
  error?: unknown,
): void {
  call.lease?.release('ran');
  core.events.result(call, outcome, execStarted, output, error);
}

/**
 * A tool's returned promise, raced against the call's timeout and the caller's signal: whichever
 * comes first settles the call, once. One object per call rather than a closure per outcome
 * (docs/performance.md, 2026-11-27).
 */
class Running {
  private settled = false;
  private resolve: (value: unknown) => void = noop;
  private reject: (error: unknown) => void = noop;
  private timer: Deadline | undefined;
  private onAbort: (() => void) | undefined;

  constructor(
    private readonly call: Call,
    private readonly core: GuardCore,
    private readonly controller: LazyAbort,
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
      const signal = this.call.signal;
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
        this.call.signal?.removeEventListener('abort', this.onAbort);
      } catch {
        // The listener was added; a signal that cannot remove it only keeps a settled callback.
      }
    }
    return true;
  }

  private returned(value: unknown): void {
    if (!this.finish()) return;
    this.settle(() => finishOk(this.call, this.core, this.execStarted, value));
  }

  private failed(thrown: unknown): void {
    if (!this.finish()) return;
    const error = shownError(thrown, this.core.audit.redactor, this.core.secrets?.scrubber);
    recordResult(this.call, this.core, 'error', this.execStarted, undefined, error);
    this.reject(error);
  }

  private aborted(): void {
    if (!this.finish()) return;
    let reason: unknown;
    try {
      reason = this.call.signal?.reason;
    } catch (error) {
      reason = error;
    }
    this.controller.abort(reason);
    recordResult(this.call, this.core, 'cancelled', this.execStarted);
    this.settle(() =>
      interrupted(
        this.call,
        this.core,
        new Interruption('CANCELLED', 'the call was cancelled while it ran', 'ran'),
      ),
    );
  }

  private timedOut(): void {
    if (!this.finish()) return;
    const { call, timeoutMs } = this;
    this.controller.abort(new Error(`toolgate: ${call.tool.name} timed out after ${timeoutMs} ms`));
    recordResult(call, this.core, 'timeout', this.execStarted);
    const reason = `the tool ran past its timeout of ${timeoutMs} ms`;
    this.settle(() => interrupted(call, this.core, new Interruption('TIMEOUT', reason, 'ran')));
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
