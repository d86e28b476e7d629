import { ConfigurationError } from '../errors.ts';

/** Throws a ConfigurationError naming the first key of `value` that is not in `allowed` (typos never pass silently). */
export function rejectUnknownKeys(value: object, allowed: ReadonlySet<string>, what: string): void {
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key !== 'string' || !allowed.has(key)) {
      throw new ConfigurationError(`${what}: unknown option ${JSON.stringify(String(key))}`);
    }
  }
}
