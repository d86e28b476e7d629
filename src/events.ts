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
 * Details of a `warning` event: a wiring mistake in the host app that toolgate noticed at run time
 * (a framework adapter used without its approval helper, a person's answer that bypassed toolgate,
 * a deprecated option). Each kind is reported once per guard; calls are still decided fail-closed.
 */
export interface GuardWarningEvent {
  /** Stable UPPER_SNAKE code, e.g. `'NO_TOOL_APPROVAL'`. */
  readonly code: string;
  /** What is wrong and how to fix it, for the developer. */
  readonly message: string;
  /** Who noticed it, e.g. `'ai-sdk'`. */
  readonly source: string;
  /** The tool concerned, when there is one. */
  readonly tool?: string;
  /** The host framework's call id, when there is one. */
  readonly toolCallId?: string;
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
  /** A wiring mistake noticed at run time (once per kind and guard); see `GuardWarningEvent`. */
  warning: [event: GuardWarningEvent];
}
