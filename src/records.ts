import { performance } from 'node:perf_hooks';
import { COMPLETE_EVENT, completeEvent } from './audit/event-fields.ts';
import type { AuditEvent, DecisionEvent, ResultEvent } from './audit/types.ts';
import type { Call } from './call.ts';
import type { GuardEvents } from './events.ts';
import type { PipelineConfig } from './pipeline.ts';
import type { Decision, DeepReadonly, JsonObject } from './types.ts';

/**
 * The audit side of one guard: builds a call's events (context fields, redacted args, args hash),
 * records them with the dispatcher and emits them to listeners.
 */
export class CallRecords {
  constructor(private readonly config: Pick<PipelineConfig, 'audit' | 'emitter' | 'emitError' | 'now'>) {}

  /** Records and emits the call's one result event. */
  result(
    call: Call,
    outcome: ResultEvent['outcome'],
    execStarted: number,
    output?: unknown,
    error?: unknown,
  ): void {
    const event = this.event(call, 'result') as unknown as Record<string, unknown>;
    event.outcome = outcome;
    event.durationMs = performance.now() - execStarted;
    if (call.outputCut !== undefined) event.outputCut = call.outputCut;
    if (outcome === 'error') {
      const summary = errorSummary(error);
      event.error = { name: summary.name, message: this.config.audit.recordedText(summary.message) };
    }
    // Size and shape always (size measured only if a sink reads it); content only with capture on.
    if (outcome === 'ok') this.config.audit.describeResult(event, output, call.redactPaths);
    this.config.audit.record(event as unknown as ResultEvent);
    this.emit('result', event as unknown as ResultEvent);
  }

  /** Builds the call's one decision event (recording it is the pipeline's choice: durable or not). */
  decision(call: Call, decision: Decision, policyDecision: Decision['type']): DecisionEvent {
    const event = this.event(call, 'decision') as unknown as Record<string, unknown>;
    event.decision = decision.type === 'deny' ? 'deny' : 'allow';
    event.policyDecision = policyDecision;
    event.rules = decision.rules;
    event.durationMs = performance.now() - call.startedAt;
    if (decision.type === 'deny') event.code = decision.code;
    if (decision.reason !== undefined)
      event.reason =
        decision.type === 'deny' ? this.config.audit.recordedText(decision.reason) : decision.reason;
    if (call.approvers !== undefined) event.approvers = call.approvers;
    return event as unknown as DecisionEvent;
  }

  /** Builds an audit event of the call; `fields` (when given) follow the call's own fields. */
  event(call: Call, type: AuditEvent['type'], fields?: Record<string, unknown>): AuditEvent {
    call.eventSeq += 1;
    const event = new CallEvent(call, type, this.config.now()) as unknown as Record<string, unknown>;
    if (call.parentCallId !== undefined) event.parentCallId = call.parentCallId;
    if (call.toolCallId !== undefined) event.toolCallId = call.toolCallId;
    const context = call.context;
    if (context.agent !== undefined) event.agent = context.agent;
    if (context.principal !== undefined) event.principal = context.principal;
    if (context.intent !== undefined) event.intent = context.intent;
    if (context.session !== undefined) event.session = context.session;
    if (context.attributes !== undefined) {
      if (call.recordedAttributesOf !== context.attributes) {
        call.recordedAttributes = this.config.audit.recordedAttributes(context.attributes);
        call.recordedAttributesOf = context.attributes;
      }
      if (call.recordedAttributes !== undefined) event.attributes = call.recordedAttributes;
    }
    // Records carry the redacted args; when redaction failed they carry none (and the call is denied).
    const args = this.recordedArgs(call);
    if (args !== undefined) event.args = args;
    if (call.policyVersion !== undefined) event.policyVersion = call.policyVersion;
    if (fields !== undefined) Object.assign(event, fields);
    return event as unknown as AuditEvent;
  }

  /** The args as recorded (redacted), computed once per args value of the call; undefined if redaction failed. */
  recordedArgs(call: Call): DeepReadonly<JsonObject> | undefined {
    if (call.args === undefined) return undefined;
    if (call.recordedArgsOf !== call.args) {
      call.recordedArgs = this.config.audit.recordedArgs(call.args);
      call.recordedArgsOf = call.args;
    }
    return call.recordedArgs;
  }

  /** Emits to listeners; a listener that throws raises an `error` event and never affects the call. */
  emit<E extends 'decision' | 'approval-request' | 'approval-response' | 'grant-used' | 'result'>(
    name: E,
    event: GuardEvents[E][0],
  ): void {
    const emitter = this.config.emitter;
    if (emitter.listenerCount(name) === 0) return;
    completeEvent(event);
    try {
      (emitter.emit as (name: string, event: unknown) => boolean)(name, event);
    } catch (error) {
      this.config.emitError(`listener:${name}`, error, event.callId);
    }
  }
}

/**
 * An audit event of a call. `argsHash` hashes the args (canonical JSON, SHA-256) the first time
 * anything reads it. It is read through the class until the event reaches a listener or a sink;
 * then `[COMPLETE_EVENT]` makes it an own, enumerable accessor, so JSON, spreads, `Object.keys`
 * and sinks see it as a data property (src/audit/event-fields.ts). Defining an own accessor costs
 * more than the rest of the event, and a memory sink only needs it when its events are read.
 * The args are the call's args when the event was built: an edit makes new events.
 */
class CallEvent {
  readonly #call: Call;
  readonly #args: Call['args'];
  readonly v = 1;
  readonly id: string;
  readonly ts: number;
  readonly type: AuditEvent['type'];
  readonly callId: string;
  readonly tool: string;

  constructor(call: Call, type: AuditEvent['type'], ts: number) {
    this.#call = call;
    this.#args = call.args;
    this.id = `${call.callId}.${call.eventSeq}`;
    this.ts = ts;
    this.type = type;
    this.callId = call.callId;
    this.tool = call.tool.name;
  }

  get argsHash(): string {
    return this.#call.argsHashOf(this.#args);
  }

  set argsHash(value: unknown) {
    assignArgsHash(this, value);
  }

  [COMPLETE_EVENT](): void {
    // An event someone froze before it was completed keeps reading the field through its class.
    if (!Object.hasOwn(this, 'argsHash') && Object.isExtensible(this))
      Object.defineProperty(this, 'argsHash', ARGS_HASH);
  }

  static hashOf(event: CallEvent): string {
    return event.#call.argsHashOf(event.#args);
  }
}

/** One shared descriptor, so every completed event keeps the same hidden class. */
const ARGS_HASH: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: CallEvent): string {
    return CallEvent.hashOf(this);
  },
  set(this: CallEvent, value: unknown): void {
    assignArgsHash(this, value);
  },
};

/** A sink that assigns the field gets a data property, as with any other field of an event. */
function assignArgsHash(event: CallEvent, value: unknown): void {
  Object.defineProperty(event, 'argsHash', { value, enumerable: true, writable: true, configurable: true });
}

function errorSummary(error: unknown): { name: string; message: string } {
  try {
    if (error instanceof Error) return { name: error.name, message: String(error.message).slice(0, 1000) };
    return { name: typeof error, message: String(error).slice(0, 1000) };
  } catch {
    return { name: 'unknown', message: 'unprintable error' };
  }
}
