import { EventEmitter } from 'eventemitter3';
import { registerGuardRecorder } from './_internal/guard-records.ts';
import { registerWarnings, reportWarning } from './_internal/guard-warnings.ts';
import { HostFunctions } from './_internal/host-functions.ts';
import { GuardListeners } from './_internal/listeners.ts';
import { closeGuard, flushAudit } from './_internal/shutdown.ts';
import type { GrantOptions } from './approval/grant-types.ts';
import { createAuditDispatcher } from './audit/dispatch.ts';
import { recordPolicyReloads } from './audit/policy-reload.ts';
import { shownDecision } from './audit/shown.ts';
import { suspensionEvent } from './audit/suspension-event.ts';
import { EMPTY_CONTEXT, mergeContext, type Scope, scopeStorage, snapshotContext } from './context.ts';
import type { ToolDefinition } from './core/call.ts';
import { createGuardCore } from './core/guard-core.ts';
import { runCall, runCheck } from './core/pipeline.ts';
import { ConfigurationError } from './errors.ts';
import type { GuardEvents } from './events.ts';
import { checkGuardOptions } from './guard-options.ts';
import type {
  CallOptions,
  Guard,
  GuardedTool,
  GuardOptions,
  OnDeny,
  ToolCallOptions,
  ToolOptions,
} from './guard-types.ts';
import { listSuspensions, resume, suspend, suspendTarget } from './limits/suspend.ts';
import { secretBroker } from './secrets/broker.ts';
import { scrubResult } from './secrets/scrub-result.ts';
import { scrubbingAudit } from './secrets/scrubbing.ts';
import { checkSameTool, defineTool } from './tool-definition.ts';
import type { DeepReadonly, ToolContext } from './types.ts';

/**
 * Creates a guard. Invalid options throw a ConfigurationError here, never on the first call.
 *
 * @example
 * const tg = createGuard({ policy: rules([{ id: 'search', effect: 'allow', tool: 'search' }]) });
 * const search = tg.guard(async ({ q }: { q: string }) => find(q), { name: 'search' });
 */
export function createGuard<D extends OnDeny = 'throw'>(options: GuardOptions<D>): Guard<D> {
  const {
    policy,
    approver,
    onDeny,
    denialDetail,
    hostNow,
    hostId,
    store,
    callDefaults,
    approvalFlood,
    identity,
  } = checkGuardOptions(options);
  const emitter = new EventEmitter<GuardEvents>();
  const emitError = (source: string, error: unknown, callId?: string) => {
    try {
      emitter.emit('error', callId === undefined ? { source, error } : { source, error, callId });
    } catch {
      // An error listener that throws has nowhere left to report to.
    }
  };
  // The host's clock and id generator, every answer checked (src/_internal/host-functions.ts).
  let warnOn: object | undefined;
  const host = new HostFunctions(hostNow, hostId, (source, error) => {
    emitError(source, error);
    reportWarning(warnOn, {
      code: source === 'now' ? 'CLOCK_FAULT' : 'ID_GENERATOR_FAULT',
      message: `${host.lastFault}: calls it happens in are denied (POLICY_ERROR)`,
      source: 'guard',
    });
  });
  const { now, generateId } = host;
  // A listener that throws or rejects is reported and never stops the others; an `error`
  // listener's own failure has nowhere left to go.
  const listeners = new GuardListeners((event, error, payload) => {
    if (event === 'error') return;
    const callId = (payload as { callId?: unknown } | undefined)?.callId;
    emitError(`listener:${event}`, error, typeof callId === 'string' ? callId : undefined);
  });
  const secrets = options.secrets === undefined ? undefined : secretBroker(options.secrets);
  const recorded = createAuditDispatcher(options.audit, (source, error, event) =>
    emitError(source, error, event?.callId),
  );
  // With secrets, everything recorded, shown to approvers or returned is scrubbed of them first.
  const audit = secrets === undefined ? recorded : scrubbingAudit(recorded, secrets.scrubber);
  const stopPolicyReloads = recordPolicyReloads(policy, audit, now, generateId);
  const registry = new Map<string, ToolDefinition>();
  const core = createGuardCore({
    policy,
    approver,
    audit,
    emitter,
    emitError,
    host,
    onDeny,
    defaults: callDefaults,
    store,
    identity,
    secrets,
    approvalFlood,
  });
  let closing: Promise<void> | undefined;

  const tg: Guard<D> = {
    guard<A, R>(
      fn: (args: A, options: ToolCallOptions) => R,
      toolOptions: ToolOptions,
    ): GuardedTool<A, Awaited<R>, D> {
      if (typeof fn !== 'function') throw new ConfigurationError('guard() takes the function to wrap');
      const definition = defineTool(fn as ToolDefinition['fn'], toolOptions, secrets);
      checkSameTool(registry.get(definition.info.name), definition);
      registry.set(definition.info.name, definition);
      const guarded = (args: A, callOptions?: CallOptions) => runCall(core, definition, args, callOptions);
      Object.defineProperty(guarded, 'toolName', { value: definition.info.name, enumerable: true });
      Object.defineProperty(guarded, 'name', { value: `guarded ${definition.info.name}` });
      return guarded as unknown as GuardedTool<A, Awaited<R>, D>;
    },
    check(tool, args, context) {
      // A dry run's reason may reach the model (the AI SDK's toolApproval shows it): redacted.
      return runCheck(core, tool, registry.get(tool), args, context).then((decision) =>
        shownDecision(decision, core.audit.redactor),
      );
    },
    withContext(context, fn) {
      const outer = scopeStorage.getStore();
      const snap = contextForScope(context);
      const merged = mergeContext(outer?.context ?? EMPTY_CONTEXT, snap, outer?.callId !== undefined);
      if (typeof merged === 'string') throw new ConfigurationError(`withContext: ${merged}`);
      const credential = outer?.credential;
      const scope: Scope =
        outer?.callId !== undefined
          ? { context: merged, callId: outer.callId, depth: outer.depth }
          : { context: merged, depth: outer?.depth ?? 0 };
      return scopeStorage.run(credential === undefined ? scope : { ...scope, credential }, fn);
    },
    withCredential(credential, fn) {
      if (identity === undefined)
        throw new ConfigurationError('withCredential: this guard has no identity option to verify it');
      if (typeof credential !== 'string' || credential.length === 0)
        throw new ConfigurationError('withCredential: the credential must be a compact JWS string');
      if (typeof fn !== 'function') throw new ConfigurationError('withCredential() takes a function');
      const outer = scopeStorage.getStore();
      const context = outer?.context ?? EMPTY_CONTEXT;
      const scope: Scope =
        outer?.callId !== undefined
          ? { context, callId: outer.callId, depth: outer.depth, credential }
          : { context, depth: outer?.depth ?? 0, credential };
      return scopeStorage.run(scope, fn);
    },
    on(event, listener) {
      if (typeof listener !== 'function') throw new ConfigurationError('tg.on() takes a listener function');
      emitter.on(event, listeners.wrap(event, listener as never) as never);
      return tg;
    },
    off(event, listener) {
      emitter.off(event, listeners.unwrap(event, listener as never) as never);
      return tg;
    },
    once(event, listener) {
      if (typeof listener !== 'function') throw new ConfigurationError('tg.once() takes a listener function');
      emitter.once(event, listeners.wrap(event, listener as never) as never);
      return tg;
    },
    grants: Object.freeze({
      issue: (grant: GrantOptions) => core.grants.issue(grant),
      list: () => core.grants.list(),
      revoke: (id: string) => core.grants.revoke(id),
    }),
    async suspend(suspendOptions) {
      const active = await suspend(store, suspendOptions, now(), callDefaults.storeTimeoutMs);
      const recorded =
        active.reason === undefined ? active : { ...active, reason: audit.recordedText(active.reason) };
      audit.record(suspensionEvent(generateId(), now(), 'suspend', recorded));
      return active;
    },
    async resume(target) {
      const lifted = await resume(store, target, now(), callDefaults.storeTimeoutMs);
      audit.record(suspensionEvent(generateId(), now(), 'resume', suspendTarget(target), lifted));
      return lifted;
    },
    suspensions() {
      return listSuspensions(store, now(), callDefaults.storeTimeoutMs);
    },
    policy,
    denialDetail,
    flush(options) {
      return flushAudit(audit, options);
    },
    close(options) {
      // One close: a second caller waits for the first and learns its outcome.
      closing ??= (async () => {
        stopPolicyReloads();
        await closeGuard(
          audit,
          [
            ['approver', approver],
            ['policy', policy],
          ],
          options,
          emitError,
        );
      })();
      return closing;
    },
  };
  // Adapters report wiring mistakes as `warning` events (src/_internal/guard-warnings.ts).
  warnOn = tg;
  registerWarnings(tg, (event) => {
    try {
      emitter.emit('warning', event);
    } catch (error) {
      emitError('listener:warning', error);
    }
  });
  // Entry points record their own events (sessions, refusals) in this guard's trail.
  registerGuardRecorder(tg, {
    record: (build) => audit.record(build(generateId(), now())),
    shown: (value) => (secrets === undefined ? value : scrubResult(value, secrets.scrubber)),
    handedOut(name, value) {
      if (secrets === undefined)
        throw new ConfigurationError('a secret was handed out by a guard without secrets');
      secrets.scrubber.add(name, value);
    },
    recordedText: (text) => audit.recordedText(text),
  });
  return tg;
}

/**
 * Wraps one function with its own guard: the same pipeline, configured inline.
 *
 * @example
 * const read = guard(readFile, { name: 'fs.read', policy: rules([...]), audit: memoryAudit() });
 */
export function guard<A, R, D extends OnDeny = 'throw'>(
  fn: (args: A, options: ToolCallOptions) => R,
  options: ToolOptions & GuardOptions<D>,
): GuardedTool<A, Awaited<R>, D> {
  const { name, input, description, risk, tags, secrets, ...guardOptions } = options;
  const toolOptions: ToolOptions = { name };
  if (input !== undefined) toolOptions.input = input;
  if (description !== undefined) toolOptions.description = description;
  if (risk !== undefined) toolOptions.risk = risk;
  if (tags !== undefined) toolOptions.tags = tags;
  if (secrets !== undefined) toolOptions.secrets = secrets;
  return createGuard(guardOptions as GuardOptions<D>).guard(fn, toolOptions);
}

/** Snapshots host-supplied context for withContext; invalid context is a host bug, so it throws. */
function contextForScope(context: ToolContext): DeepReadonly<ToolContext> {
  const result = snapshotContext(context);
  if (typeof result === 'string') throw new ConfigurationError(`withContext: ${result}`);
  return result;
}
