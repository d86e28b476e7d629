import { parseDuration } from '../_internal/duration.ts';
import { identityKey, identityProblem, nameProblem } from '../_internal/names.ts';
import { storeCall } from '../_internal/store-call.ts';
import type { StateStore, SuspensionRecord } from '../store/types.ts';
import type { Duration } from '../types.ts';
import { suspensionKey } from './keys.ts';

/** What to suspend: exactly one of a tool, an agent, a principal or a session. */
export type SuspendTarget =
  | { readonly tool: string; readonly agent?: never; readonly principal?: never; readonly session?: never }
  | { readonly agent: string; readonly tool?: never; readonly principal?: never; readonly session?: never }
  | { readonly principal: string; readonly tool?: never; readonly agent?: never; readonly session?: never }
  | { readonly session: string; readonly tool?: never; readonly agent?: never; readonly principal?: never };

/** Options of `tg.suspend()`: the target plus why and for how long. */
export type SuspendOptions = SuspendTarget & {
  /** Recorded with the suspension and on the audit trail. */
  readonly reason?: string;
  /** Lifts itself after this long; absent means until `tg.resume()`. */
  readonly for?: Duration;
};

/** A suspension in force, as `tg.suspensions()` lists it. */
export interface ActiveSuspension {
  readonly field: 'tool' | 'agent' | 'principal' | 'session';
  readonly value: string;
  readonly at: number;
  readonly until?: number;
  readonly reason?: string;
}

const FIELDS = ['tool', 'agent', 'principal', 'session'] as const;

/** Checks a suspend/resume target; throws a TypeError unless exactly one field is a string. */
export function suspendTarget(target: unknown): { field: (typeof FIELDS)[number]; value: string } {
  if (typeof target !== 'object' || target === null)
    throw new TypeError('toolgate: suspend() takes { tool | agent | principal | session }');
  const present = FIELDS.filter((field) => (target as Record<string, unknown>)[field] !== undefined);
  const field = present[0];
  if (present.length !== 1 || field === undefined)
    throw new TypeError('toolgate: name exactly one of tool, agent, principal or session');
  const value = (target as Record<string, unknown>)[field];
  if (typeof value !== 'string' || value === '')
    throw new TypeError(`toolgate: ${field} must be a non-empty string`);
  // A name no call can carry would suspend nobody while looking as if it did. Tool names are
  // held to the rules of tool names (after NFC: calls are checked in NFC), identities to theirs.
  const key = identityKey(value);
  const problem = field === 'tool' ? nameProblem(key, 'tool', 'tool') : identityProblem(value, field);
  if (problem !== undefined) throw new TypeError(`toolgate: ${problem}`);
  return { field, value: key };
}

/** How long a kill-switch operation waits for the store unless told otherwise (`defaults.storeTimeout`'s default). */
const STORE_TIMEOUT_MS = 1_000;

/** Writes a suspension to the store. */
export async function suspend(
  store: StateStore,
  options: SuspendOptions,
  now: number,
  timeoutMs: number = STORE_TIMEOUT_MS,
): Promise<ActiveSuspension> {
  const { field, value } = suspendTarget(options);
  const entry: { at: number; until?: number; reason?: string } = { at: now };
  if (options.for !== undefined) entry.until = now + parseDuration(options.for, 'suspend for');
  if (options.reason !== undefined) entry.reason = String(options.reason);
  await storeCall('suspend', () => store.suspend(suspensionKey(field, value), entry), timeoutMs);
  return Object.freeze({ field, value, ...entry });
}

/** Lifts a suspension; `true` if one was in force. */
export async function resume(
  store: StateStore,
  target: SuspendTarget,
  now: number,
  timeoutMs: number = STORE_TIMEOUT_MS,
): Promise<boolean> {
  const { field, value } = suspendTarget(target);
  return (
    (await storeCall('resume', () => store.resume(suspensionKey(field, value), now), timeoutMs)) === true
  );
}

/** Suspensions in force at `now`. */
export async function listSuspensions(
  store: StateStore,
  now: number,
  timeoutMs: number = STORE_TIMEOUT_MS,
): Promise<ActiveSuspension[]> {
  const records: readonly SuspensionRecord[] = await storeCall(
    'suspensions',
    () => store.suspensions(now),
    timeoutMs,
  );
  const result: ActiveSuspension[] = [];
  for (const record of records) {
    const at = record.key.indexOf('=');
    const field = record.key.slice(0, at) as ActiveSuspension['field'];
    if (at < 0 || !(FIELDS as readonly string[]).includes(field)) continue;
    const entry: {
      field: ActiveSuspension['field'];
      value: string;
      at: number;
      until?: number;
      reason?: string;
    } = {
      field,
      value: record.key.slice(at + 1),
      at: record.at,
    };
    if (record.until !== undefined) entry.until = record.until;
    if (record.reason !== undefined) entry.reason = record.reason;
    result.push(Object.freeze(entry));
  }
  return result;
}
