import { performance } from 'node:perf_hooks';
import type { EventEmitter } from 'eventemitter3';
import { type SnapshotLimits, sameData, snapshot } from './_internal/snapshot.ts';
import { validateArgs } from './_internal/validate.ts';
import { type ApprovalServices, createApprovalServices } from './approval/services.ts';
import type { ApprovalProvider } from './approval/types.ts';
import { askPath } from './ask-path.ts';
import { type AuditDispatcher, approverArgs } from './audit/dispatch.ts';
import { redactPathsProblem } from './audit/redact.ts';
import { Call, CallRequest } from './call.ts';
import { EMPTY_CONTEXT, mergeContext, type Scope, scopeStorage, snapshotContext } from './context.ts';
import type { GuardEvents } from './events.ts';
import { enterLimits, type LimitLease, type LimitsSettings, limitsCall } from './limits/step.ts';
import { CallOutcomes } from './outcomes.ts';
import { deny, evaluatePolicy } from './policy/evaluate.ts';
import type { PolicyEngine } from './policy/types.ts';
import { CallRecords } from './records.ts';
import type { StandardSchemaV1 } from './standard-schema.ts';
import type { StateStore } from './store/types.ts';
import type {
  Decision,
  DeepReadonly,
  DenyDecision,
  JsonObject,
  ToolContext,
  ToolInfo,
  ToolRequest,
} from './types.ts';

/** A registered tool. */
export interface ToolDefinition {
  readonly fn: (args: unknown, options: unknown) => unknown;
  readonly info: ToolInfo;
  readonly input: StandardSchemaV1 | undefined;
}

export interface PipelineConfig {
  readonly policy: PolicyEngine;
  readonly approver: ApprovalProvider | undefined;
  readonly audit: AuditDispatcher;
  readonly emitter: EventEmitter<GuardEvents>;
  readonly emitError: (source: string, error: unknown, callId?: string) => void;
  readonly now: () => number;
  readonly generateId: () => string;
  readonly onDeny: 'throw' | 'return';
  readonly store: StateStore;
  /** Flood control for approval requests, per principal (default: 20 pending, 60 a minute). */
  readonly approvalFlood?: { readonly maxPending: number; readonly perMinute: number } | undefined;
  readonly limits: {
    readonly timeoutMs: number;
    readonly policyTimeoutMs: number;
    readonly approvalTimeoutMs: number;
    readonly maxArgBytes: number;
    readonly maxArgDepth: number;
    readonly maxCallDepth: number;
    /** How long one state-store operation may take before the call is denied. */
    readonly storeTimeoutMs: number;
    /** Maximum calls per session in 24 hours (loop protection). */
    readonly maxSessionCalls: number | undefined;
  };
}

type Prepared = { ok: true; args: DeepReadonly<JsonObject> } | { ok: false; problem: string };

/** Obligations the core enforces; an engine asking for anything else gets a deny, never a silent allow. */
const SUPPORTED_OBLIGATIONS = new Set(['timeout', 'redact', 'maxRows', 'maxBytes']);

/**
 * The guard's pipeline: snapshot → validate → decide → approve → record → execute → record. This
 * class is the allow path; a deny or an ask continues in src/ask-path.ts, and `tg.check` is
 * src/dry-run.ts. Members marked internal are the steps those modules share.
 */
export class Pipeline {
  private readonly snapshotLimits: SnapshotLimits;

  /** The approval step and the grants (src/approval/). */
  readonly approval: ApprovalServices;

  /** @internal Settings of the limits step (also used by the dry run). */
  readonly limitSettings: LimitsSettings;

  /** Builds, records and emits the call's audit events (src/records.ts). */
  readonly records: CallRecords;

  /** Steps 7–9 and the call's exits: run the tool, record the result, deny or interrupt (src/outcomes.ts). */
  readonly outcomes: CallOutcomes;

  constructor(readonly config: PipelineConfig) {
    this.records = new CallRecords(config);
    this.outcomes = new CallOutcomes(this.records, config.audit, config.onDeny);
    this.limitSettings = {
      store: config.store,
      storeTimeoutMs: config.limits.storeTimeoutMs,
      maxSessionCalls: config.limits.maxSessionCalls,
      onError: config.emitError,
    };
    this.snapshotLimits = { maxBytes: config.limits.maxArgBytes, maxDepth: config.limits.maxArgDepth };
    this.approval = createApprovalServices({
      approver: config.approver,
      store: config.store,
      now: config.now,
      generateId: config.generateId,
      emitError: config.emitError,
      approvalTimeoutMs: config.limits.approvalTimeoutMs,
      storeTimeoutMs: config.limits.storeTimeoutMs,
      flood: config.approvalFlood,
      showArgs: approverArgs(config.audit),
    });
  }

  /** Runs one guarded call. Resolves with the tool's result or a denial; rejects with ToolDeniedError. */
  run(
    definition: ToolDefinition,
    rawArgs: unknown,
    options: { context?: ToolContext; signal?: AbortSignal; toolCallId?: string } | undefined,
  ): Promise<unknown> {
    // The steps run synchronously as far as they can (sync schema, engine and store): every await
    // is a tick on the hot path. Each step hands over to the next, through `then` only when it
    // had to wait. A throw anywhere (a denial) becomes the rejection of the call.
    try {
      const outcome = this.start(definition, rawArgs, options);
      return outcome instanceof Promise ? outcome : Promise.resolve(outcome);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Steps 1–2: context, depth, snapshot and validation. */
  private start(
    definition: ToolDefinition,
    rawArgs: unknown,
    options: { context?: ToolContext; signal?: AbortSignal; toolCallId?: string } | undefined,
  ): unknown {
    const config = this.config;
    const startedAt = performance.now();
    const scope = scopeStorage.getStore();
    const depth = scope?.callId === undefined ? 0 : scope.depth;
    const call = new Call(
      config.generateId(),
      scope?.callId,
      depth,
      definition.info,
      typeof options?.toolCallId === 'string' ? options.toolCallId : undefined,
      scope?.context ?? EMPTY_CONTEXT,
      startedAt,
    );
    const signal = options?.signal;

    // 1. Context: host-supplied, snapshotted, and never widened inside a parent call.
    const context = this.resolveContext(scope, options?.context);
    if (typeof context === 'string')
      return this.outcomes.denied(call, deny('INVALID_CONTEXT', context), 'deny');
    call.context = context;
    if (depth > config.limits.maxCallDepth) {
      return this.outcomes.denied(
        call,
        deny('CALL_DEPTH_EXCEEDED', `guarded calls are nested deeper than ${config.limits.maxCallDepth}`),
        'deny',
      );
    }
    if (signal?.aborted)
      return this.outcomes.denied(
        call,
        deny('CANCELLED', 'the call was cancelled before it started'),
        'deny',
      );

    // 2. Snapshot and validate: from here on, only the frozen copy exists.
    const prepared = this.prepareArgs(definition, rawArgs);
    return prepared instanceof Promise
      ? prepared.then((ready) => this.decide(definition, call, ready, signal))
      : this.decide(definition, call, prepared, signal);
  }

  /** Step 3: the policy decision for the snapshotted args. */
  private decide(
    definition: ToolDefinition,
    call: Call,
    prepared: Prepared,
    signal: AbortSignal | undefined,
  ): unknown {
    if (!prepared.ok) return this.outcomes.denied(call, deny('INVALID_ARGS', prepared.problem), 'deny');
    call.args = prepared.args;
    if (this.records.recordedArgs(call) === undefined)
      return this.outcomes.denied(call, UNREDACTABLE, 'deny');
    const evaluated = evaluatePolicy(this.config.policy, this.request(call), {
      timeoutMs: this.config.limits.policyTimeoutMs,
      signal,
    });
    return evaluated instanceof Promise
      ? evaluated.then((decision) => this.decided(definition, call, decision, signal))
      : this.decided(definition, call, evaluated, signal);
  }

  /** Steps 3b–5 for the engine's decision: an allow goes straight to the limits step. */
  private decided(
    definition: ToolDefinition,
    call: Call,
    decision: Decision,
    signal: AbortSignal | undefined,
  ): unknown {
    call.policyVersion = decision.policyVersion ?? this.config.policy.version;
    if (decision.type !== 'allow') return askPath(this, definition, call, decision, signal);
    // 4. Limits: suspensions, rate, concurrency and budget, taken atomically (src/limits/).
    const limited = this.enterLimits(call, decision, signal);
    return limited instanceof Promise
      ? limited.then((admitted) => this.admitted(definition, call, decision, admitted, signal))
      : this.admitted(definition, call, decision, limited, signal);
  }

  /** The rest of an allow once the limits step answered. */
  private admitted(
    definition: ToolDefinition,
    call: Call,
    decision: Extract<Decision, { type: 'allow' }>,
    limited: DenyDecision | LimitLease | undefined,
    signal: AbortSignal | undefined,
  ): unknown {
    if (limited !== undefined && 'type' in limited) return this.outcomes.denied(call, limited, 'allow');
    call.lease = limited;
    return this.commit(definition, call, decision, 'allow', signal);
  }

  /** @internal Step 4 for the call's current args (the first admission, or again after an edit). */
  enterLimits(
    call: Call,
    decision: Exclude<Decision, { type: 'deny' }>,
    signal: AbortSignal | undefined,
  ): DenyDecision | LimitLease | undefined | Promise<DenyDecision | LimitLease | undefined> {
    // The first admission of a call: its id is new to the store (an edit re-admits it).
    const first = call.admissions === 0;
    call.admissions += 1;
    return enterLimits(
      this.limitSettings,
      this.request(call),
      decision,
      limitsCall(decision, this.config.limits, signal, false, first),
    );
  }

  /** Steps 6–7: the decision record (durably first in fail-closed mode), then the tool. */
  commit(
    definition: ToolDefinition,
    call: Call,
    decision: Exclude<Decision, { type: 'deny' }>,
    policyDecision: Decision['type'],
    signal: AbortSignal | undefined,
  ): unknown {
    const obligationProblem = unsupportedObligation(decision);
    if (obligationProblem !== undefined)
      return this.outcomes.denied(
        call,
        deny('POLICY_ERROR', obligationProblem, decision.rules),
        policyDecision,
      );
    // Edited arguments are redacted too; a failure denies before anything is recorded or run.
    if (this.records.recordedArgs(call) === undefined)
      return this.outcomes.denied(call, UNREDACTABLE, policyDecision);
    call.redactPaths = decision.obligations?.redact;

    const event = this.records.decision(call, decision, policyDecision);
    if (this.config.audit.mode === 'fail-closed') {
      return this.config.audit.recordDurable(event).then((durable) => {
        if (!durable) {
          return this.outcomes.interrupted(
            call,
            'AUDIT_UNAVAILABLE',
            'the audit trail could not record the decision',
            decision,
            false,
          );
        }
        this.records.emit('decision', event);
        return this.executeNow(definition, call, decision, signal);
      });
    }
    this.config.audit.record(event);
    this.records.emit('decision', event);
    return this.executeNow(definition, call, decision, signal);
  }

  private executeNow(
    definition: ToolDefinition,
    call: Call,
    decision: Exclude<Decision, { type: 'deny' }>,
    signal: AbortSignal | undefined,
  ): unknown {
    if (signal?.aborted)
      return this.outcomes.interrupted(
        call,
        'CANCELLED',
        'the call was cancelled before it ran',
        decision,
        false,
      );
    // 7. Execute, exactly once, with the frozen args.
    const timeoutMs = decision.obligations?.timeout ?? this.config.limits.timeoutMs;
    return this.outcomes.execute(definition, call, decision, timeoutMs, signal);
  }

  /** @internal The call's context: the scope's, narrowed by the per-call context. */
  resolveContext(
    scope: Scope | undefined,
    perCall: ToolContext | undefined,
  ): DeepReadonly<ToolContext> | string {
    const outer = scope?.context ?? EMPTY_CONTEXT;
    if (perCall === undefined) return outer;
    const inner = snapshotContext(perCall);
    if (typeof inner === 'string') return inner;
    return mergeContext(outer, inner, scope?.callId !== undefined);
  }

  /** @internal Step 2: snapshot, validate, and snapshot the schema's output when it differs. */
  prepareArgs(definition: ToolDefinition, rawArgs: unknown): Prepared | Promise<Prepared> {
    const first = snapshot(rawArgs, this.snapshotLimits);
    if (!first.ok) return first;
    const schema = definition.input;
    if (schema === undefined) return { ok: true, args: first.value };
    const validated = validateArgs(schema, first.value);
    const finish = (result: Awaited<typeof validated>): Prepared => {
      if (!result.ok) return result;
      // Usually the schema returns the same data in a new object: keep the frozen snapshot then.
      if (sameData(result.value, first.value)) return { ok: true, args: first.value };
      // The schema's output is what runs; it must be JSON data and keep every key it was given.
      const second = snapshot(result.value, this.snapshotLimits, first.value);
      return second.ok ? { ok: true, args: second.value } : { ok: false, problem: second.problem };
    };
    return validated instanceof Promise ? validated.then(finish) : finish(validated);
  }

  /** The frozen request for the call's current args; reused until the args change (edit then approve). */
  request(call: Call): ToolRequest {
    const cached = call.request;
    if (cached !== undefined && cached.args === call.args) return cached;
    const request = new CallRequest(call, this.config.now());
    call.request = request;
    return request;
  }
}

/** Whether the guard enforces every obligation of `decision`; the problem when it does not. */
export function unsupportedObligation(decision: Decision): string | undefined {
  if (decision.type === 'deny') return undefined;
  if (decision.obligations === undefined) return undefined;
  for (const key of Object.keys(decision.obligations)) {
    if (!SUPPORTED_OBLIGATIONS.has(key)) return `obligation ${key} is not enforced by this guard`;
  }
  const timeout = decision.obligations.timeout;
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0)))
    return 'obligation timeout must be milliseconds';
  if (decision.obligations.redact !== undefined) return redactPathsProblem(decision.obligations.redact);
  return undefined;
}

const UNREDACTABLE: DenyDecision = deny(
  'AUDIT_UNAVAILABLE',
  'the arguments could not be redacted for the audit trail',
);
