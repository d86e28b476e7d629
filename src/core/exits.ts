import { shownDecision } from '../audit/shown.ts';
import { denialRule, ToolDeniedError, ToolInterruptedError } from '../errors.ts';
import type { DenyDecision, FailedCondition, ToolDenial } from '../types.ts';
import type { Call, Interruption } from './call.ts';
import type { GuardCore } from './guard-core.ts';

// How a call ends when it does not give back the tool's value: denied (its one decision record),
// or interrupted after it was allowed. Both give back what the limits step took, then throw or,
// with `onDeny: 'return'`, resolve with a denial the model can read.

/** Records the single decision record of a denied call, then throws or returns the denial. */
export function denied(call: Call, core: GuardCore, decision: DenyDecision): never | ToolDenial {
  call.lease?.release('not-run');
  const event = core.events.decision(call, decision);
  core.audit.record(event);
  core.events.emit('decision', event);
  // The denial the caller (and the model) gets is redacted like the record.
  const shown = shownDecision(decision, core.audit.redactor);
  if (core.onDeny === 'return') {
    const rule = denialRule(shown.rules, shown.failed);
    return denial(shown.code, shown.reason, call, shown.retryAfterMs, rule, shown.failed);
  }
  throw new ToolDeniedError({
    code: shown.code,
    tool: call.tool.name,
    callId: call.callId,
    reason: shown.reason,
    decision: shown,
  });
}

/** A call stopped after it was allowed: audit failure, cancellation, timeout, or a withheld result. */
export function interrupted(call: Call, core: GuardCore, stop: Interruption): never | ToolDenial {
  call.lease?.release(stop.ran ? 'ran' : 'not-run');
  if (core.onDeny === 'return') return denial(stop.code, stop.reason, call);
  throw new ToolInterruptedError({
    code: stop.code,
    tool: call.tool.name,
    callId: call.callId,
    reason: stop.reason,
    decision: shownDecision(call.decision!, core.audit.redactor),
    ran: stop.ran,
  });
}

function denial(
  code: ToolDenial['code'],
  reason: string,
  call: Call,
  retryAfterMs?: number,
  rule?: string,
  failed: readonly FailedCondition[] = NONE,
): ToolDenial {
  const result: { -readonly [K in keyof ToolDenial]: ToolDenial[K] } = {
    denied: true,
    code,
    reason,
    tool: call.tool.name,
    callId: call.callId,
    failed,
  };
  if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
  if (rule !== undefined) result.rule = rule;
  return Object.freeze(result);
}

const NONE: readonly FailedCondition[] = Object.freeze([]);
