import { performance } from 'node:perf_hooks';
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
    const fields: Record<string, unknown> = { outcome, durationMs: performance.now() - execStarted };
    if (call.outputCut !== undefined) fields.outputCut = call.outputCut;
    if (outcome === 'error') {
      const summary = errorSummary(error);
      fields.error = { name: summary.name, message: this.config.audit.recordedText(summary.message) };
    }
    // Size and shape always (size measured only if a sink reads it); content only with capture on.
    if (outcome === 'ok') this.config.audit.describeResult(fields, output, call.redactPaths);
    const event = this.event(call, 'result', fields) as ResultEvent;
    this.config.audit.record(event);
    this.emit('result', event);
  }

  /** Builds the call's one decision event (recording it is the pipeline's choice: durable or not). */
  decision(call: Call, decision: Decision, policyDecision: Decision['type']): DecisionEvent {
    const fields: Record<string, unknown> = {
      decision: decision.type === 'deny' ? 'deny' : 'allow',
      policyDecision,
      rules: decision.rules,
      durationMs: performance.now() - call.startedAt,
    };
    if (decision.type === 'deny') fields.code = decision.code;
    if (decision.reason !== undefined)
      fields.reason =
        decision.type === 'deny' ? this.config.audit.recordedText(decision.reason) : decision.reason;
    if (call.approvers !== undefined) fields.approvers = call.approvers;
    return this.event(call, 'decision', fields) as DecisionEvent;
  }

  /** Builds an audit event. */
  event(call: Call, type: AuditEvent['type'], fields: Record<string, unknown>): AuditEvent {
    call.eventSeq += 1;
    // A plain data property: computed once per call (per args value) and shared by its events.
    const event: Record<string, unknown> = {
      v: 1,
      id: `${call.callId}.${call.eventSeq}`,
      ts: this.config.now(),
      type,
      callId: call.callId,
      tool: call.tool.name,
      argsHash: call.argsHash,
    };
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
    Object.assign(event, fields);
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
    try {
      (emitter.emit as (name: string, event: unknown) => boolean)(name, event);
    } catch (error) {
      this.config.emitError(`listener:${name}`, error, event.callId);
    }
  }
}

function errorSummary(error: unknown): { name: string; message: string } {
  try {
    if (error instanceof Error) return { name: error.name, message: String(error.message).slice(0, 1000) };
    return { name: typeof error, message: String(error).slice(0, 1000) };
  } catch {
    return { name: 'unknown', message: 'unprintable error' };
  }
}
