import { ConfigurationError } from '../errors.ts';
import { checkSecretName, type SecretProvider } from './types.ts';

/** Options of `envSecrets`. */
export interface EnvSecretsOptions {
  /** Prefix of the variables, e.g. `'TG_SECRET_'`: secret `stripe` is `TG_SECRET_STRIPE`. */
  readonly prefix: string;
  /** Where to read. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const ENV_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Secrets from environment variables: `prefix + NAME` with the name upper-cased. Names must be
 * letters, digits and `_` (a name with `.` or `-` has no variable and is refused). Read at each
 * call, so a changed variable is picked up. An unset or empty variable is an error.
 *
 * @example
 * const provider = envSecrets({ prefix: 'TG_SECRET_' });   // 'stripe' → $TG_SECRET_STRIPE
 */
export function envSecrets(options: EnvSecretsOptions): SecretProvider {
  const prefix = options?.prefix;
  if (typeof prefix !== 'string' || prefix.length === 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix))
    throw new ConfigurationError('envSecrets() needs { prefix }, such as "TG_SECRET_"');
  const env = options.env ?? process.env;
  return Object.freeze({
    name: 'env',
    get(name: string) {
      checkSecretName(name);
      if (!ENV_NAME.test(name))
        throw new TypeError(
          `toolgate: secret ${name} has no environment variable (use letters, digits and _)`,
        );
      const variable = prefix + name.toUpperCase();
      const value = env[variable];
      if (typeof value !== 'string' || value.length === 0)
        throw new Error(`toolgate: secret ${name}: ${variable} is not set`);
      return { value };
    },
  });
}
