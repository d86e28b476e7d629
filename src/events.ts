import type {
  ApprovalRequestEvent,
  ApprovalResponseEvent,
  DecisionEvent,
  GrantUsedEvent,
  ResultEvent,
} from './audit/types.ts';

/** Details of an `error` event: something failed without breaking a call (a sink, a listener). */
export interface GuardErrorEvent {
  /** Where it happened, e.g. `'audit:jsonl'` or `'listener:decision'`. */
  readonly source: string;
  readonly error: unknown;
  readonly callId?: string;
}

/**
 * Typed events of a guard (`tg.on(name, listener)`). Listeners run synchronously; a listener that
 * throws raises an `error` event and never affects the call.
 */
export interface GuardEvents {
  decision: [event: DecisionEvent];
  'approval-request': [event: ApprovalRequestEvent];
  'approval-response': [event: ApprovalResponseEvent];
  /** A grant allowed a call (one event per use). */
  'grant-used': [event: GrantUsedEvent];
  result: [event: ResultEvent];
  error: [event: GuardErrorEvent];
}
