import type { StoreCapability } from '../store/capabilities.ts';
import type { StateStore } from '../store/types.ts';

// Shared by the StateStore conformance suite's files (state-store.ts and its case files).

/** The suites' epoch: every time is passed to the store explicitly, from here. */
export const T0: number = Date.UTC(2026, 0, 1);
export const MIN: number = 60_000;

/**
 * Runs a case against a fresh store, then closes it and cleans up. A case that `needs` optional
 * capabilities is skipped for a store without them (with the runner's `context.skip()` where the
 * runner passes one, as vitest and node:test do).
 */
export type WithStore = (
  fn: (store: StateStore) => Promise<void>,
  needs?: readonly (StoreCapability | 'syncAdmission')[],
) => (...context: unknown[]) => Promise<void>;

/** Polls until `condition` holds (at most 5 s): for deliveries that arrive asynchronously. */
export async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}
