import { ConfigurationError } from '../errors.ts';
import type { Awaitable } from '../types.ts';
import {
  checkSecretName,
  readSecretValue,
  type SecretProvider,
  type SecretRequest,
  type SecretValue,
} from './types.ts';

/** Options of `callbackSecrets`. */
export interface CallbackSecretsOptions {
  /** @default 'callback' */
  readonly name?: string;
}

/**
 * Secrets from a function: Vault, Infisical, a cloud secret manager. It returns the value, or
 * `{ value, expiresAt }`; it throws (or rejects) when the secret is missing.
 *
 * @example
 * const provider = callbackSecrets(async (name) => {
 *   const secret = await manager.getSecretValue({ SecretId: `prod/${name}` });
 *   return { value: secret.SecretString!, expiresAt: Date.now() + 5 * 60_000 };
 * });
 */
export function callbackSecrets(
  fn: (name: string, request: SecretRequest) => Awaitable<string | SecretValue>,
  options: CallbackSecretsOptions = {},
): SecretProvider {
  if (typeof fn !== 'function') throw new ConfigurationError('callbackSecrets() takes a function');
  const label = options.name ?? 'callback';
  if (typeof label !== 'string' || label.length === 0)
    throw new ConfigurationError('name must be a non-empty string');
  return Object.freeze({
    name: label,
    async get(name: string, request: SecretRequest): Promise<SecretValue> {
      checkSecretName(name);
      const answer = await fn(name, request);
      return readSecretValue(typeof answer === 'string' ? { value: answer } : answer, name);
    },
  });
}
