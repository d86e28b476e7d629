/** Shared by the adapters' approval tests: one ask rule with an approvers check, and a warning log. */
import { expect } from 'vitest';
import { type AuditEvent, type Guard, type GuardWarningEvent, rules } from '../../src/index.ts';

/** Refunds need a person, and only an `ops` person's approval counts. */
export function approvalPolicy() {
  return rules([
    {
      id: 'refunds',
      effect: 'ask',
      tool: 'refund',
      reason: 'refunds need a human',
      approval: { approvers: ['user:ops-*'] },
    },
  ]);
}

/** Collects the guard's `warning` events. */
export function watchWarnings(tg: Pick<Guard, 'on'>): GuardWarningEvent[] {
  const warnings: GuardWarningEvent[] = [];
  tg.on('warning', (event) => warnings.push(event));
  return warnings;
}

/** The audit events' types, in order. */
export function eventTypes(events: readonly AuditEvent[]): string[] {
  return events.map((event) => event.type);
}

/**
 * A call whose rejection was recorded, then approved in the framework anyway: two denials, and the
 * second answer is the person's recorded "no", not an unknown approver's "yes".
 */
export function expectRejectionKept(events: readonly AuditEvent[], approver: string): void {
  expect(events.filter((e) => e.type === 'decision')).toMatchObject([
    { decision: 'deny', code: 'APPROVAL_DENIED' },
    { decision: 'deny', code: 'APPROVAL_DENIED' },
  ]);
  expect(events.filter((e) => e.type === 'approval-response').at(-1)).toMatchObject({
    approved: false,
    approver,
  });
}
