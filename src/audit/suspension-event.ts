import type { ActiveSuspension } from '../limits/suspend.ts';
import type { SuspensionEvent } from './types.ts';

/** The audit record of a suspend or resume (`type: 'suspension'`). */
export function suspensionEvent(
  id: string,
  ts: number,
  action: 'suspend' | 'resume',
  target: {
    readonly field: ActiveSuspension['field'];
    readonly value: string;
    readonly until?: number;
    readonly reason?: string;
  },
  lifted?: boolean,
): SuspensionEvent {
  const event: { -readonly [K in keyof SuspensionEvent]: SuspensionEvent[K] } = {
    v: 1,
    id,
    ts,
    type: 'suspension',
    action,
    field: target.field,
    value: target.value,
  };
  if (target.until !== undefined) event.until = target.until;
  if (target.reason !== undefined) event.reason = target.reason;
  if (lifted !== undefined) event.lifted = lifted;
  return Object.freeze(event);
}
