import type { AuditEvent } from '../../src/index.ts';

/** A plausible decision event. */
export function decisionEvent(n: number, extra: Record<string, unknown> = {}): AuditEvent {
  return {
    v: 1,
    id: `call-${n}.1`,
    ts: 1_767_225_600_000 + n,
    type: 'decision',
    callId: `call-${n}`,
    tool: n % 2 === 0 ? 'payments.refund' : 'db.query',
    agent: n % 3 === 0 ? 'support-bot' : 'report-bot',
    argsHash: 'a'.repeat(64),
    args: { orderId: `o-${n}`, amount: n },
    decision: n % 5 === 0 ? 'deny' : 'allow',
    policyDecision: n % 5 === 0 ? 'deny' : 'allow',
    rules: ['r1'],
    durationMs: 0.25,
    ...(n % 5 === 0 ? { code: 'DENIED_BY_RULE' } : {}),
    ...extra,
  } as AuditEvent;
}
