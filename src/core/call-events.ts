import { performance } from 'node:perf_hooks';
import type { EventEmitter } from 'eventemitter3';
import { errorParts } from '../_internal/describe-error.ts';
import type { ApprovalRequestFields, ApprovalResponseFields } from '../approval/approval-flow.ts';
import type { Grant } from '../approval/grant-types.ts';
import type { AuditDispatcher } from '../audit/dispatch.ts';
import { COMPLETE_EVENT, completeEvent } from '../audit/event-fields.ts';
import { shownFailed } from '../audit/shown.ts';
import type {
  ApprovalRequestEvent,
  ApprovalResponseEvent,
  AuditEventBase,
  DecisionEvent,
  GrantUsedEvent,
  ResultEvent,
} from '../audit/types.ts';
import { denialRule } from '../errors.ts';
import type { GuardEvents } from '../events.ts';
import type { Decision, DeepReadonly, FailedCondition, JsonObject } from '../types.ts';
import type { Call } from './call.ts';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

const NO_FAILED: readonly FailedCondition[] = Object.freeze([]);

/**
 * The recording side of one guard: builds a call's audit events (context fields, redacted args,
 * args hash), records them with the dispatcher and emits them to listeners. Steps that decide call
 * it to record; nothing they decide depends on it.
 */
export class CallEvents {
  constructor(
    private readonly audit: AuditDispatcher,
    private readonly emitter: EventEmitter<GuardEvents>,
    private readonly emitError: (source: string, error: unknown, callId?: string) => void,
    /** The clock of the records. */
    readonly now: () => number,
    /** Whether the guard verifies credentials (decision records then say `verified`). */
    private readonly identity = false,
  ) {}

  /** Builds the call's one decision event (recording it is the record step's choice: durable or not). */
  decision(call: Call, decision: Decision): DecisionEvent {
    call.eventSeq += 1;
    // Every reason is free text (a rule's, an engine's, an error's): recorded redacted.
    const reason = decision.reason === undefined ? undefined : this.audit.recordedText(decision.reason);
    const at = performance.now();
    const event = CallRecord.of<DecisionEvent>(call, this.tsAt(call, at), 'decision');
    callFields(event, call, this);
    event.decision = decision.type === 'deny' ? 'deny' : 'allow';
    event.policyDecision = call.policyDecision;
    event.rules = decision.rules;
    event.durationMs = at - call.startedAt;
    if (decision.type === 'deny') event.code = decision.code;
    if (reason !== undefined) event.reason = reason;
    if (decision.type === 'deny') {
      const failed = shownFailed(decision.failed ?? NO_FAILED, this.audit.redactor);
      const rule = denialRule(decision.rules, failed);
      if (rule !== undefined) event.rule = rule;
      event.failed = failed;
    }
    if (call.approvers !== undefined) event.approvers = call.approvers;
    if (this.identity) {
      const credential = call.verified;
      event.verified = credential !== undefined;
      if (credential !== undefined) {
        event.credentialId = credential.credentialId;
        event.keyId = credential.keyId;
      }
    }
    if (call.definition.secrets.length > 0) event.secrets = call.definition.secrets;
    return event;
  }

  /** Records and emits the call's one result event. */
  result(
    call: Call,
    outcome: ResultEvent['outcome'],
    execStarted: number,
    output?: unknown,
    error?: unknown,
  ): void {
    call.eventSeq += 1;
    const at = performance.now();
    const event = CallRecord.of<ResultEvent>(call, this.tsAt(call, at), 'result');
    callFields(event, call, this);
    event.outcome = outcome;
    event.durationMs = at - execStarted;
    if (call.outputCut !== undefined) event.outputCut = call.outputCut;
    if (outcome === 'error') {
      const parts = errorParts(error);
      event.error = {
        name: this.audit.recordedText(parts.name),
        message: this.audit.recordedText(parts.message),
      };
    }
    // Size and shape always (size measured only if a sink reads it); content only with capture on.
    if (outcome === 'ok') this.audit.describeResult(event, output, redactPaths(call));
    this.audit.record(event);
    this.emit('result', event);
  }

  /**
   * The timestamp of a record built at `at` (a `performance.now()` reading). With the system
   * clock, within a second of the call's start it is the clock read at the start plus the time
   * since, in whole milliseconds (never later than the clock, at most 1 ms earlier): two reads of
   * the system clock fewer a call, each ~40 ns on the machines measured (docs/performance.md).
   * Later, or with a custom clock, the clock is read: a call that waited for an approval is
   * stamped by the clock, wherever it went meanwhile.
   */
  tsAt(call: Call, at: number): number {
    const wall = call.wallStart;
    const elapsed = at - call.startedAt;
    return !Number.isNaN(wall) && elapsed >= 0 && elapsed < 1000 ? Math.floor(wall + elapsed) : this.now();
  }

  /** Records and emits a `grant-used` event: a grant allowed the call. */
  grantUsed(call: Call, grant: Grant): void {
    call.eventSeq += 1;
    const event: Writable<GrantUsedEvent> = {
      ...this.rareRecord(call, 'grant-used'),
      grantId: grant.id,
      issuedBy: grant.issuedBy,
    };
    if (grant.approval !== undefined) event.approval = grant.approval;
    this.audit.record(event);
    this.emit('grant-used', event);
  }

  /** Records and emits the call's `approval-request` event; the reason is redacted like all free text. */
  approvalRequest(call: Call, fields: ApprovalRequestFields): void {
    call.eventSeq += 1;
    const event: ApprovalRequestEvent = {
      ...this.rareRecord(call, 'approval-request'),
      requestId: fields.requestId,
      provider: fields.provider,
      reason: this.audit.recordedText(fields.reason),
      rules: fields.rules,
      expiresAt: fields.expiresAt,
    };
    this.audit.record(event);
    this.emit('approval-request', event);
  }

  /** Records and emits an `approval-response` event; approvers write free text, so it is redacted. */
  approvalResponse(call: Call, fields: ApprovalResponseFields): void {
    call.eventSeq += 1;
    const event: Writable<ApprovalResponseEvent> = {
      ...this.rareRecord(call, 'approval-response'),
      requestId: fields.requestId,
    };
    if (fields.approved !== undefined) event.approved = fields.approved;
    if (fields.approver !== undefined) event.approver = fields.approver;
    if (fields.code !== undefined) event.code = fields.code;
    if (fields.reason !== undefined) event.reason = this.audit.recordedText(fields.reason);
    if (fields.edited !== undefined) event.edited = fields.edited;
    if (fields.late !== undefined) event.late = fields.late;
    this.audit.record(event);
    this.emit('approval-response', event);
  }

  /**
   * The fields a rarer record (a grant's use, an approval request or answer) starts with. Its
   * args are hashed now: these records are few, and built as typed literals.
   */
  private rareRecord<K extends CallEventName>(
    call: Call,
    type: K,
  ): CallRecordFields & { type: K; argsHash: string } {
    const record = {
      v: 1 as const,
      id: `${call.callId}.${call.eventSeq}`,
      // On the call's own timeline, as its decision and result are (see `tsAt`).
      ts: this.tsAt(call, performance.now()),
      type,
      callId: call.callId,
      tool: call.tool.name,
      argsHash: call.argsHash,
    };
    callFields(record, call, this);
    return record;
  }

  /** The args as recorded (redacted), computed once per args value of the call; undefined if redaction failed. */
  recordedArgs(call: Call): DeepReadonly<JsonObject> | undefined {
    if (call.args === undefined) return undefined;
    if (call.recordedArgsOf !== call.args) {
      call.recordedArgs = this.audit.recordedArgs(call.args);
      call.recordedArgsOf = call.args;
    }
    return call.recordedArgs;
  }

  /** Context attributes as recorded, computed once per attributes value of the call. */
  recordedAttributes(call: Call, attributes: DeepReadonly<JsonObject>): DeepReadonly<JsonObject> | undefined {
    if (call.recordedAttributesOf !== attributes) {
      call.recordedAttributes = this.audit.recordedAttributes(attributes);
      call.recordedAttributesOf = attributes;
    }
    return call.recordedAttributes;
  }

  /** Emits to listeners; a listener that throws raises an `error` event and never affects the call. */
  emit<E extends CallEventName>(name: E, event: GuardEvents[E][0]): void {
    const emitter = this.emitter;
    if (emitter.listenerCount(name) === 0) return;
    completeEvent(event);
    try {
      // eventemitter3 types `emit` per event name; `name` and `event` are paired by E above.
      (emitter.emit as (name: CallEventName, event: GuardEvents[E][0]) => boolean)(name, event);
    } catch (error) {
      this.emitError(`listener:${name}`, error, event.callId);
    }
  }
}

/** Paths of the `redact` obligation, applied to the recorded output. */
function redactPaths(call: Call): readonly string[] | undefined {
  const decision = call.decision;
  return decision === undefined || decision.type === 'deny' ? undefined : decision.obligations?.redact;
}

/**
 * The call's own fields of a record, after its base fields and before those of its kind: the
 * context, the redacted args (none when redaction failed; the call is then denied) and the
 * policy version. Records never carry `undefined` fields.
 */
function callFields(record: CallRecordFields, call: Call, events: CallEvents): void {
  if (call.parentCallId !== undefined) record.parentCallId = call.parentCallId;
  if (call.toolCallId !== undefined) record.toolCallId = call.toolCallId;
  const context = call.context;
  if (context.agent !== undefined) record.agent = context.agent;
  if (context.principal !== undefined) record.principal = context.principal;
  if (context.intent !== undefined) record.intent = context.intent;
  if (context.session !== undefined) record.session = context.session;
  if (context.attributes !== undefined) {
    const attributes = events.recordedAttributes(call, context.attributes);
    if (attributes !== undefined) record.attributes = attributes;
  }
  const args = events.recordedArgs(call);
  if (args !== undefined) record.args = args;
  if (call.policyVersion !== undefined) record.policyVersion = call.policyVersion;
}

// The class of the two records every call has, its decision and its result (CallEvents above
// builds them; the rarer records are typed literals). One class, not a base class and a class per
// kind: V8 builds a derived class through a generic, uninlined path, which cost ~1% of an allowed
// call (docs/performance.md, "The pipeline as a list of steps"). Its constructor sets only the
// fields every record starts with, so it stays small enough to be inlined; the builder, through
// the record's typed view (`Building<DecisionEvent>`, …), sets the rest in the order records have
// always had.
//
// `argsHash` hashes the args (canonical JSON, SHA-256) the first time anything reads it. It is
// read through the class until the event reaches a listener or a sink; then `[COMPLETE_EVENT]`
// makes it an own, enumerable accessor, so JSON, spreads, `Object.keys` and sinks see it as a
// data property (src/audit/event-fields.ts). Defining an own accessor costs more than the rest of
// the event, and a memory sink only needs it when its events are read. The args are the call's
// args when the event was built.

/** The audit events of a call, by name. */
type CallEventName = 'decision' | 'approval-request' | 'approval-response' | 'grant-used' | 'result';

/** The fields of a call's record while it is built (`argsHash` is computed, never set). */
type CallRecordFields = Writable<Omit<AuditEventBase, 'argsHash'>>;

/** A record of the event type `E` while it is built: its fields, writable, and its `argsHash`. */
type Building<E extends AuditEventBase> = Writable<Omit<E, 'argsHash'>> & CallRecord;

/** A decision or result record: the fields every record starts with, and the lazy `argsHash`. */
class CallRecord {
  readonly #call: Call;
  readonly #args: Call['args'];
  readonly v = 1;
  readonly id: string;
  readonly ts: number;
  readonly type: CallEventName;
  readonly callId: string;
  readonly tool: string;

  private constructor(call: Call, ts: number, type: CallEventName) {
    this.#call = call;
    this.#args = call.args;
    this.id = `${call.callId}.${call.eventSeq}`;
    this.ts = ts;
    this.type = type;
    this.callId = call.callId;
    this.tool = call.tool.name;
  }

  /**
   * A new record of `type`, as the event it becomes (`E`): the builder sets the fields of its kind
   * next. The view is the one assertion of the module, made where the record is made.
   */
  static of<E extends AuditEventBase & { type: 'decision' | 'result' }>(
    call: Call,
    ts: number,
    type: E['type'],
  ): Building<E> {
    return new CallRecord(call, ts, type) as Building<E>;
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

  static hashOf(record: CallRecord): string {
    return record.#call.argsHashOf(record.#args);
  }
}

/** One shared descriptor, so every completed event keeps the same hidden class. */
const ARGS_HASH: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: CallRecord): string {
    return CallRecord.hashOf(this);
  },
  set(this: CallRecord, value: unknown): void {
    assignArgsHash(this, value);
  },
};

/** A sink that assigns the field gets a data property, as with any other field of an event. */
function assignArgsHash(record: CallRecord, value: unknown): void {
  Object.defineProperty(record, 'argsHash', { value, enumerable: true, writable: true, configurable: true });
}
