import type { EventEmitter } from 'eventemitter3';
import { CallFailure, callSync } from '../_internal/fail-closed.ts';
import type { HostFunctions } from '../_internal/host-functions.ts';
import type { SnapshotLimits } from '../_internal/snapshot.ts';
import { ApprovalFlow } from '../approval/approval-flow.ts';
import type { FloodLimits } from '../approval/flood.ts';
import { GrantManager } from '../approval/grants.ts';
import type { ApprovalProvider } from '../approval/types.ts';
import { type AuditDispatcher, approverView } from '../audit/dispatch.ts';
import type { GuardEvents } from '../events.ts';
import type { VerifiedCredential } from '../identity/token.ts';
import type { CredentialVerifier } from '../identity/verify.ts';
import type { LimitsSettings } from '../limits/admission.ts';
import { compileWhen } from '../policy/conditions.ts';
import type { PolicyEngine } from '../policy/types.ts';
import type { SecretBroker } from '../secrets/broker.ts';
import type { StateStore, SyncAdmission } from '../store/types.ts';
import type { DeepReadonly, ToolContext } from '../types.ts';
import { CallEvents } from './call-events.ts';

/** Timeouts and caps of every call of a guard, parsed once by `createGuard`. */
export interface CallDefaults {
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
}

/**
 * The guard's `identity` option as the core sees it: the verifier's contract
 * (`CredentialVerifier` of src/identity/verify.ts), nothing else of src/identity/.
 */
export interface IdentitySettings {
  readonly verifier: CredentialVerifier;
  /** Deny a call without a credential (`UNAUTHENTICATED`). */
  readonly require: boolean;
  /**
   * The registry keeps its entries in the guard's own store, so a credential's revocation
   * entries join the limits step's one atomic `admit`; otherwise the verify step asks
   * `verifier.revocation` itself.
   */
  readonly sharedStore: boolean;
}

/** The verified context of one credential under one host context (see src/core/steps/verify.ts). */
export interface VerifiedContext {
  readonly host: DeepReadonly<ToolContext>;
  readonly context: DeepReadonly<ToolContext>;
}

/** What `createGuard` hands the core, validated. */
export interface GuardCoreOptions {
  readonly policy: PolicyEngine;
  readonly approver: ApprovalProvider | undefined;
  readonly audit: AuditDispatcher;
  readonly emitter: EventEmitter<GuardEvents>;
  readonly emitError: (source: string, error: unknown, callId?: string) => void;
  /** The host's clock and id generator, checked (src/_internal/host-functions.ts). */
  readonly host: HostFunctions;
  readonly onDeny: 'throw' | 'return';
  readonly store: StateStore;
  /** Flood control for approval requests, per principal. */
  readonly approvalFlood: FloodLimits;
  readonly defaults: CallDefaults;
  readonly identity: IdentitySettings | undefined;
  readonly secrets: SecretBroker | undefined;
}

/**
 * What the steps of every call of one guard share: its configuration and the services built from
 * it. One plain object per guard; the steps read it and never change it.
 */
export interface GuardCore
  extends Pick<GuardCoreOptions, 'policy' | 'audit' | 'emitError' | 'host' | 'onDeny' | 'defaults'> {
  /** The guard's clock (`host.now`): epoch ms, always a finite number. */
  readonly now: () => number;
  /** The guard's id generator (`host.generateId`): always a string of 1 to 256 characters. */
  readonly generateId: () => string;
  /** Builds, records and emits the calls' audit events (the recording side). */
  readonly events: CallEvents;
  /**
   * Whether `now` is the system clock (`Date.now`, the default): a call then reads it once, as it
   * starts, and its records' timestamps follow from `performance.now()` (see `CallEvents.tsAt`).
   */
  readonly systemClock: boolean;
  readonly snapshotLimits: SnapshotLimits;
  /** How long the engine may take, for calls without a caller's signal (src/core/steps/decide.ts). */
  readonly policyOptions: { readonly timeoutMs: number };
  /** Settings of the limits step. */
  readonly limits: LimitsSettings;
  /** The approval of `ask` decisions; absent without an approver (an ask then denies `NO_APPROVER`). */
  readonly approvals: ApprovalFlow | undefined;
  /** Grants in the state store. */
  readonly grants: GrantManager;
  /** Credential verification; absent without the `identity` option. */
  readonly identity: IdentitySettings | undefined;
  /** The last verified context per credential, so a warm call builds none. */
  readonly verifiedContexts: WeakMap<VerifiedCredential, VerifiedContext>;
  /** The secrets step (fetch and scrub); absent without the `secrets` option. */
  readonly secrets: SecretBroker | undefined;
}

/** Builds the core of a guard. */
export function createGuardCore(options: GuardCoreOptions): GuardCore {
  const { store, host, emitError, defaults } = options;
  const { now, generateId } = host;
  const systemClock = now === Date.now;
  const grants = new GrantManager({
    store,
    now,
    generateId,
    storeTimeoutMs: defaults.storeTimeoutMs,
    compileWhen,
  });
  const approvals =
    options.approver === undefined
      ? undefined
      : new ApprovalFlow({
          approver: options.approver,
          now,
          generateId,
          defaultTimeoutMs: defaults.approvalTimeoutMs,
          flood: options.approvalFlood,
          grants,
          show: approverView(options.audit),
          onError: emitError,
        });
  return {
    policy: options.policy,
    audit: options.audit,
    events: new CallEvents(options.audit, options.emitter, emitError, now, options.identity !== undefined),
    systemClock,
    emitError,
    host,
    now,
    generateId,
    onDeny: options.onDeny,
    defaults,
    snapshotLimits: { maxBytes: defaults.maxArgBytes, maxDepth: defaults.maxArgDepth },
    policyOptions: Object.freeze({ timeoutMs: defaults.policyTimeoutMs }),
    limits: {
      store,
      syncAdmission: syncAdmissionOf(store),
      storeTimeoutMs: defaults.storeTimeoutMs,
      maxSessionCalls: defaults.maxSessionCalls,
      onError: emitError,
      timeoutMs: defaults.timeoutMs,
      approvalTimeoutMs: defaults.approvalTimeoutMs,
      suspensionDenial: options.identity?.verifier.denial,
    },
    approvals,
    grants,
    identity: options.identity,
    verifiedContexts: new WeakMap(),
    secrets: options.secrets,
  };
}

/**
 * The store's synchronous admission (`StateStore.syncAdmission`), asked for once, here: the
 * capability is checked when the guard that uses it is created. A store that throws or answers
 * anything else has none, and every call goes through `admit`. Its methods are wrapped once, here,
 * so a call hands them to the fail-closed helper without making a closure.
 */
function syncAdmissionOf(store: StateStore): SyncAdmission | undefined {
  // Its members are read once, here, inside the helper: a getter that throws means none.
  const sync = callSync(() => {
    const capability = store.syncAdmission?.();
    if (typeof capability !== 'object' || capability === null) return undefined;
    const { admitNew, nothingSuspended } = capability;
    return typeof admitNew === 'function' && typeof nothingSuspended === 'function'
      ? { admitNew, nothingSuspended, capability }
      : undefined;
  }, undefined);
  if (sync instanceof CallFailure || sync === undefined) return undefined;
  const { admitNew, nothingSuspended, capability } = sync;
  return {
    nothingSuspended: () => nothingSuspended.call(capability),
    admitNew: (request) => admitNew.call(capability, request),
  };
}
