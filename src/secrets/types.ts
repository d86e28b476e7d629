import type { Awaitable, DeepReadonly, ToolContext } from '../types.ts';

/** What a provider is told about the call that needs a secret. */
export interface SecretRequest {
  /** The tool that will receive the secret. */
  readonly tool: string;
  readonly callId: string;
  /** The call's context (agent, principal, …), for providers that scope secrets themselves. */
  readonly context: DeepReadonly<ToolContext>;
  /** Aborted when the guard stops waiting (timeout, cancelled call). */
  readonly signal?: AbortSignal;
}

/** A secret as a provider hands it out. */
export interface SecretValue {
  readonly value: string;
  /** When it stops being valid, epoch ms; it is fetched again after that. */
  readonly expiresAt?: number;
}

/**
 * Where secrets come from (credential brokering): the guard asks for a secret by name just before
 * the tool runs and hands it to the tool, never to the model. A missing or unreadable secret is a
 * throw or rejection (the call is then denied `SECRET_UNAVAILABLE`); the error must not contain
 * the value. Check an implementation with `testSecretProvider` from `toolgate/testing`.
 *
 * @example
 * const vault: SecretProvider = {
 *   name: 'vault',
 *   async get(name) { const { data } = await client.read(`secret/${name}`); return { value: data.key }; },
 * };
 */
export interface SecretProvider {
  /** A label for errors and records. */
  readonly name: string;
  get(name: string, request: SecretRequest): Awaitable<SecretValue>;
}

/** Matches an unpaired surrogate (a paired one is one code point under the u flag). */
export const LONE_SURROGATE: RegExp = /\p{Cs}/u;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * Secret names: 1 to 128 of `A-Z a-z 0-9 _ . -`, starting with a letter or digit (so never a
 * path, never `..`). Throws a TypeError otherwise.
 */
export function checkSecretName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name))
    throw new TypeError(
      `toolgate: a secret name is 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit; got ${JSON.stringify(name)}`,
    );
  return name;
}

/**
 * Checks a provider's answer: `{ value }` with a non-empty string value without lone surrogates,
 * and `expiresAt`, when present, a finite epoch-ms number. Returns it frozen; throws otherwise.
 */
export function readSecretValue(answer: unknown, name: string): SecretValue {
  if (typeof answer !== 'object' || answer === null)
    throw new TypeError(`toolgate: secret ${name}: the provider did not answer { value }`);
  const { value, expiresAt } = answer as { value?: unknown; expiresAt?: unknown };
  if (typeof value !== 'string' || value.length === 0)
    throw new TypeError(`toolgate: secret ${name}: the value must be a non-empty string`);
  if (LONE_SURROGATE.test(value))
    throw new TypeError(`toolgate: secret ${name}: the value has a lone surrogate`);
  if (expiresAt !== undefined && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)))
    throw new TypeError(`toolgate: secret ${name}: expiresAt must be epoch ms`);
  return Object.freeze(expiresAt === undefined ? { value } : { value, expiresAt });
}
