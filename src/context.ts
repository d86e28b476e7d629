import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { identityKey, identityProblem } from './_internal/names.ts';
import { snapshot } from './_internal/snapshot.ts';
import type { DeepReadonly, ToolContext } from './types.ts';

/** What flows through async work: the context, and the call we are inside of (if any). */
export interface Scope {
  readonly context: DeepReadonly<ToolContext>;
  /** The guarded call currently executing, for `parentCallId` and depth. */
  readonly callId?: string;
  readonly depth: number;
  /** The agent credential of `withCredential`, or of the guarded call we are inside of. */
  readonly credential?: string | undefined;
}

/** Shared by every guard in the process, so nesting is seen across guards too. */
export const scopeStorage: AsyncLocalStorage<Scope> = new AsyncLocalStorage<Scope>();

/**
 * Runs `fn(a, b)` with `scope` as the current scope, as `scopeStorage.run(scope, fn, a, b)` does.
 * Where AsyncLocalStorage keeps its stores in context frames (Node 24), `run` copies the frame's
 * map on the way in and again on the way out; an AsyncResource made in the caller's frame
 * restores that very frame on the way out, so only the way in copies (~60 ns less per call there;
 * docs/performance.md, round 5). Where it keeps them on async resources (Node 20 and 22, found by
 * the method only that implementation has), a resource per call costs more than `run`, which is
 * used. Both give the tool the same scope and the caller back its own.
 */
export const runInScope: <A, B, R>(scope: Scope, fn: (a: A, b: B) => R, a: A, b: B) => R =
  typeof (AsyncLocalStorage.prototype as { _enable?: unknown })._enable === 'function'
    ? runWithStorage
    : runInResource;

/** `runInScope` where stores live on async resources (exported for its tests). */
export function runWithStorage<A, B, R>(scope: Scope, fn: (a: A, b: B) => R, a: A, b: B): R {
  return scopeStorage.run(scope, fn, a, b);
}

/** `runInScope` where stores live in context frames (exported for its tests). */
export function runInResource<A, B, R>(scope: Scope, fn: (a: A, b: B) => R, a: A, b: B): R {
  // Destroyed by the garbage collector when async hooks listen for it (none do by default).
  const resource = new AsyncResource('toolgate.call');
  return resource.runInAsyncScope<null, R>(enterAndCall, null, scope, fn, a, b);
}

function enterAndCall<A, B, R>(scope: Scope, fn: (a: A, b: B) => R, a: A, b: B): R {
  // Inside the resource's scope: the frame entered here is left when the resource's scope ends.
  scopeStorage.enterWith(scope);
  return fn(a, b);
}

export const EMPTY_CONTEXT: DeepReadonly<ToolContext> = Object.freeze({});

/**
 * What an adapter passes as the call's context when the host's context function threw: the
 * context step denies it (`INVALID_CONTEXT`, recorded) with `problem` as the reason, as it denies
 * any context it cannot use. Not a plain object, and its problem is no enumerable property, so
 * no copy of it can pass for a context.
 */
export class ContextFailure {
  readonly #problem: string;
  constructor(problem: string) {
    this.#problem = problem;
    Object.freeze(this);
  }
  get problem(): string {
    return this.#problem;
  }
}

export const IDENTITY_FIELDS = ['agent', 'principal', 'intent', 'session'] as const;

/**
 * Merges an inner context into an outer one. When `locked` (inside a guarded call), the inner
 * context may add fields but never change the identity fields or attributes already set: a
 * nested call can never widen its scope. Returns a string describing the conflict instead.
 */
export function mergeContext(
  outer: DeepReadonly<ToolContext>,
  inner: DeepReadonly<ToolContext> | undefined,
  locked: boolean,
): DeepReadonly<ToolContext> | string {
  if (inner === undefined || inner === outer) return outer;
  const merged: { -readonly [K in keyof ToolContext]?: DeepReadonly<ToolContext>[K] | undefined } = {
    ...outer,
  };
  for (const field of IDENTITY_FIELDS) {
    const value = inner[field];
    if (value === undefined) continue;
    const current = outer[field];
    if (locked && current !== undefined && current !== value) {
      return `a nested call cannot change context.${field} from ${JSON.stringify(current)} to ${JSON.stringify(value)}`;
    }
    merged[field] = value;
  }
  if (inner.attributes !== undefined) {
    const attributes: Record<string, unknown> = { ...outer.attributes };
    for (const [key, value] of Object.entries(inner.attributes)) {
      if (
        locked &&
        outer.attributes !== undefined &&
        Object.hasOwn(outer.attributes, key) &&
        outer.attributes[key] !== value
      ) {
        return `a nested call cannot change context.attributes.${key}`;
      }
      attributes[key] = value;
    }
    merged.attributes = Object.freeze(attributes) as DeepReadonly<ToolContext>['attributes'];
  }
  return Object.freeze(merged) as DeepReadonly<ToolContext>;
}

/**
 * Validates and freezes host-supplied context; returns a problem string when it is not acceptable.
 * Identity fields must be acceptable identities (no invisible or format characters, no outer
 * whitespace: src/_internal/names.ts) and come back in NFC.
 */
export function snapshotContext(context: unknown): DeepReadonly<ToolContext> | string {
  if (context === undefined) return EMPTY_CONTEXT;
  if (typeof context !== 'object' || context === null || Array.isArray(context))
    return 'context must be an object';
  const result = snapshot(context, { maxBytes: 65_536, maxDepth: 16 });
  if (!result.ok) return `context: ${result.problem}`;
  const value = result.value as Record<string, unknown>;
  // Identities are kept in NFC, the form every comparison uses (policy, quorum, grants, limits).
  let normalized: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    if (key === 'attributes') {
      const attributes = value.attributes;
      if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
        return 'context.attributes must be an object';
      }
    } else if (key === 'credential') {
      const credential = value.credential;
      if (typeof credential !== 'string' || credential.length === 0)
        return 'context.credential must be a credential (a compact JWS string)';
    } else if ((IDENTITY_FIELDS as readonly string[]).includes(key)) {
      const problem = identityProblem(value[key], `context.${key}`);
      if (problem !== undefined) return problem;
      const nfc = identityKey(value[key] as string);
      if (nfc !== value[key]) {
        normalized ??= { ...value };
        normalized[key] = nfc;
      }
    } else {
      return `context.${key} is not a context field (use context.attributes for host facts)`;
    }
  }
  return (normalized === undefined ? value : Object.freeze(normalized)) as DeepReadonly<ToolContext>;
}
