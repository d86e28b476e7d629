import { ConfigurationError } from '../errors.ts';
import type { StateStore } from './types.ts';

/** The optional capabilities of a StateStore that a feature may need. */
export type StoreCapability = 'claim' | 'subscribe' | 'notify';

/** A StateStore that has the capabilities `K`. */
export type StoreWith<K extends StoreCapability> = StateStore & Required<Pick<StateStore, K>>;

/**
 * Checks, when a feature is created, that `store` is a StateStore with the optional capabilities
 * the feature needs (as unstorage checks a driver's `watch`). Throws a ConfigurationError naming
 * the feature and what is missing.
 */
export function requireCapabilities<K extends StoreCapability>(
  store: unknown,
  capabilities: readonly K[],
  feature: string,
): StoreWith<K> {
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof (store as StateStore).admit !== 'function' ||
    typeof (store as StateStore).put !== 'function'
  )
    throw new ConfigurationError(`${feature}: store must be a StateStore`);
  const missing = capabilities.filter((name) => typeof (store as StateStore)[name] !== 'function');
  if (missing.length > 0) {
    throw new ConfigurationError(
      `${feature}: the store ${JSON.stringify((store as StateStore).name)} has no ${missing.join(', ')}, which it needs`,
    );
  }
  return store as StoreWith<K>;
}
