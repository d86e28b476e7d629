import { parseDuration } from './_internal/duration.ts';
import { newId } from './_internal/ids.ts';
import { rejectUnknownKeys } from './_internal/keys.ts';
import type { IdentitySettings } from './core/guard-core.ts';
import { ConfigurationError } from './errors.ts';
import type { GuardOptions, OnDeny } from './guard-types.ts';
import { registryInternals } from './identity/registry.ts';
import { credentialVerifier } from './identity/verify.ts';
import { memoryStore } from './store/memory.ts';
import type { StateStore } from './store/types.ts';

// The options of `createGuard` (src/guard.ts), checked once at construction: every invalid one is
// a ConfigurationError here, never on the first call.

const DEFAULTS = {
  timeout: '30s',
  policyTimeout: '1s',
  approvalTimeout: '5m',
  maxArgBytes: 1_048_576,
  maxArgDepth: 64,
  maxCallDepth: 16,
  storeTimeout: '1s',
} as const;

const GUARD_OPTION_KEYS: ReadonlySet<string> = new Set([
  'policy',
  'approver',
  'audit',
  'store',
  'onDeny',
  'denialDetail',
  'now',
  'generateId',
  'defaults',
  'identity',
  'secrets',
]);
const IDENTITY_KEYS: ReadonlySet<string> = new Set(['keys', 'registry', 'audience', 'require', 'clockSkew']);
const DEFAULT_KEYS: ReadonlySet<string> = new Set([
  'timeout',
  'policyTimeout',
  'approvalTimeout',
  'maxArgBytes',
  'maxArgDepth',
  'maxCallDepth',
  'maxPendingApprovals',
  'approvalsPerMinute',
  'storeTimeout',
  'maxSessionCalls',
]);

/** `createGuard`'s options, checked, as the guard and its core use them. */
export interface CheckedGuardOptions<D extends OnDeny> {
  readonly policy: GuardOptions<D>['policy'];
  readonly approver: GuardOptions<D>['approver'];
  readonly onDeny: OnDeny;
  readonly denialDetail: 'code' | 'reason' | 'full';
  readonly hostNow: () => number;
  readonly hostId: () => string;
  readonly store: StateStore;
  readonly callDefaults: {
    timeoutMs: number;
    policyTimeoutMs: number;
    approvalTimeoutMs: number;
    maxArgBytes: number;
    maxArgDepth: number;
    maxCallDepth: number;
    storeTimeoutMs: number;
    maxSessionCalls: number | undefined;
  };
  readonly approvalFlood: { maxPending: number; perMinute: number };
  readonly identity: IdentitySettings | undefined;
}

/** Checks `createGuard`'s options; throws a ConfigurationError naming the first one that is wrong. */
export function checkGuardOptions<D extends OnDeny>(options: GuardOptions<D>): CheckedGuardOptions<D> {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('createGuard() takes an options object');
  rejectUnknownKeys(options, GUARD_OPTION_KEYS, 'createGuard()');
  if (options.defaults !== undefined) {
    if (typeof options.defaults !== 'object' || options.defaults === null)
      throw new ConfigurationError('options.defaults must be an object');
    rejectUnknownKeys(options.defaults, DEFAULT_KEYS, 'options.defaults');
  }
  const { policy, approver } = options;
  if (typeof policy !== 'object' || policy === null || typeof policy.evaluate !== 'function') {
    throw new ConfigurationError(
      'createGuard() needs a policy engine (options.policy): there is no implicit allow-all',
    );
  }
  if (
    approver !== undefined &&
    (typeof approver !== 'object' || approver === null || typeof approver.request !== 'function')
  ) {
    throw new ConfigurationError('options.approver must have a request() method');
  }
  const onDeny = options.onDeny ?? 'throw';
  if (onDeny !== 'throw' && onDeny !== 'return')
    throw new ConfigurationError(`onDeny must be 'throw' or 'return'`);
  const denialDetail = options.denialDetail ?? 'reason';
  if (denialDetail !== 'code' && denialDetail !== 'reason' && denialDetail !== 'full')
    throw new ConfigurationError(
      `denialDetail must be 'code', 'reason' or 'full', not ${JSON.stringify(denialDetail)}`,
    );
  const hostNow = options.now ?? Date.now;
  const hostId = options.generateId ?? newId;
  if (typeof hostNow !== 'function') throw new ConfigurationError('options.now must be a function');
  if (typeof hostId !== 'function') throw new ConfigurationError('options.generateId must be a function');
  const store = options.store ?? memoryStore();
  if (typeof store !== 'object' || store === null || typeof store.admit !== 'function')
    throw new ConfigurationError('options.store must be a StateStore');
  const defaults = { ...DEFAULTS, ...options.defaults };
  const callDefaults = {
    timeoutMs: parseDuration(defaults.timeout, 'defaults.timeout'),
    policyTimeoutMs: parseDuration(defaults.policyTimeout, 'defaults.policyTimeout'),
    approvalTimeoutMs: parseDuration(defaults.approvalTimeout, 'defaults.approvalTimeout'),
    maxArgBytes: positiveInteger(defaults.maxArgBytes, 'defaults.maxArgBytes'),
    maxArgDepth: positiveInteger(defaults.maxArgDepth, 'defaults.maxArgDepth'),
    maxCallDepth: positiveInteger(defaults.maxCallDepth, 'defaults.maxCallDepth'),
    storeTimeoutMs: parseDuration(defaults.storeTimeout, 'defaults.storeTimeout'),
    maxSessionCalls:
      defaults.maxSessionCalls === undefined
        ? undefined
        : positiveInteger(defaults.maxSessionCalls, 'defaults.maxSessionCalls'),
  };
  const approvalFlood = {
    maxPending: positiveInteger(defaults.maxPendingApprovals ?? 20, 'defaults.maxPendingApprovals'),
    perMinute: positiveInteger(defaults.approvalsPerMinute ?? 60, 'defaults.approvalsPerMinute'),
  };
  const identity = identitySettings(options.identity, store);
  return {
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
  };
}

/** The guard's `identity` option, checked, as the core uses it. */
function identitySettings(option: GuardOptions['identity'], store: StateStore): IdentitySettings | undefined {
  if (option === undefined) return undefined;
  if (typeof option !== 'object' || option === null)
    throw new ConfigurationError('options.identity must be { keys, registry, audience }');
  rejectUnknownKeys(option, IDENTITY_KEYS, 'options.identity');
  if (option.require !== undefined && typeof option.require !== 'boolean')
    throw new ConfigurationError('options.identity.require must be a boolean');
  let verifier: IdentitySettings['verifier'];
  let registryStore: StateStore;
  try {
    verifier = credentialVerifier(option);
    registryStore = registryInternals(option.registry).store;
  } catch (error) {
    if (ConfigurationError.isInstance(error)) throw error;
    throw new ConfigurationError(
      `options.identity: ${error instanceof Error ? error.message.replace(/^toolgate: /, '') : String(error)}`,
    );
  }
  return Object.freeze({ verifier, require: option.require ?? true, sharedStore: registryStore === store });
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new ConfigurationError(`${what} must be a positive integer`);
  return value;
}
