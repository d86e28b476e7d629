import { parseDuration } from '../_internal/duration.ts';
import { nameProblem } from '../_internal/names.ts';
import { ConfigurationError } from '../errors.ts';
import type { JsonValue } from '../types.ts';
import type { StoredGrant } from './grant-records.ts';
import type { GrantOptions } from './grant-types.ts';

// Validation of what `tg.grants.issue()` takes: host code's mistakes throw a ConfigurationError.

const GRANT_KEYS = new Set([
  'tool',
  'agent',
  'principal',
  'intent',
  'argsHash',
  'when',
  'maxUses',
  'reason',
  'for',
  'until',
]);

/**
 * Validates `tg.grants.issue()` options into the stored form of a host grant (without its `when`,
 * which the manager compiles). Unknown keys, invalid names and grants that never expire throw.
 */
export function grantFromOptions(input: GrantOptions, now: number): StoredGrant {
  if (typeof input !== 'object' || input === null)
    throw new ConfigurationError('grants.issue() takes an options object');
  for (const key of Reflect.ownKeys(input)) {
    if (typeof key !== 'string' || !GRANT_KEYS.has(key))
      throw new ConfigurationError(`grants.issue(): unknown option ${String(key)}`);
  }
  const stored: StoredGrant = {
    v: 2,
    source: 'host',
    tool: globOption(input.tool, 'tool', true)!,
    exact: false,
    issuedAt: now,
    expiresAt: 0,
    issuedBy: 'host',
  };
  for (const field of ['agent', 'principal', 'intent'] as const) {
    const value = globOption(input[field], field, false);
    if (value !== undefined) stored[field] = value;
  }
  if (input.argsHash !== undefined) {
    if (typeof input.argsHash !== 'string' || !/^[0-9a-f]{64}$/.test(input.argsHash))
      throw new ConfigurationError('grants.issue(): argsHash must be a lowercase hex SHA-256');
    stored.argsHash = input.argsHash;
  }
  if (input.maxUses !== undefined) {
    if (!Number.isSafeInteger(input.maxUses) || input.maxUses < 1)
      throw new ConfigurationError('grants.issue(): maxUses must be a positive integer');
    stored.maxUses = input.maxUses;
  }
  if (input.reason !== undefined) {
    if (typeof input.reason !== 'string')
      throw new ConfigurationError('grants.issue(): reason must be a string');
    stored.reason = input.reason;
  }
  if ((input.for === undefined) === (input.until === undefined))
    throw new ConfigurationError('grants.issue(): give exactly one of for or until (a grant must expire)');
  if (input.for !== undefined) {
    stored.expiresAt = now + parseDuration(input.for, 'grants.issue(): for');
  } else {
    const until = input.until instanceof Date ? input.until.getTime() : input.until;
    if (typeof until !== 'number' || !Number.isFinite(until))
      throw new ConfigurationError('grants.issue(): until must be epoch ms or a Date');
    stored.expiresAt = until;
  }
  if (!(stored.expiresAt > now))
    throw new ConfigurationError('grants.issue(): the grant would already be expired');
  if (input.when !== undefined && (typeof input.when !== 'object' || input.when === null))
    throw new ConfigurationError('grants.issue(): when must be an object of conditions');
  return stored;
}

/** A name glob of a grant: checked like the names it matches (`*` aside), kept in NFC. */
function globOption(value: unknown, field: string, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0)
    throw new ConfigurationError(`grants.issue(): ${field} must be a non-empty glob`);
  // `*` is not refused by the check, so a glob is checked like the names it matches.
  const nfc = value.normalize('NFC');
  const problem = nameProblem(nfc, field === 'tool' ? 'tool' : 'identity', `grants.issue(): ${field}`);
  if (problem !== undefined) throw new ConfigurationError(problem);
  return nfc;
}

/** The conditions as JSON when they are plain data (so other processes can compile them), else undefined. */
export function jsonOrUndefined(value: unknown): JsonValue | undefined {
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') throw new Error('code');
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        const proto = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) throw new Error('not plain');
      }
      return v;
    });
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  } catch {
    return undefined;
  }
}
