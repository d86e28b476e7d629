import type { Awaitable, Decision, ToolRequest } from '../types.ts';

/**
 * Decides one tool call. Implementations must not ask a human or write audit records;
 * the guard does both around the decision.
 *
 * Any throw, rejection, evaluation timeout or malformed result is turned into a deny by the guard.
 *
 * @example
 * const engine: PolicyEngine = {
 *   name: 'my-engine',
 *   evaluate: (request) =>
 *     request.tool.name === 'search'
 *       ? { type: 'allow', rules: ['search-ok'] }
 *       : { type: 'deny', rules: [], code: 'NO_MATCHING_RULE', reason: 'not allowed' },
 * };
 */
export interface PolicyEngine {
  readonly name: string;
  /** A hash or label of the policy currently in force, recorded on every decision. */
  readonly version?: string;
  evaluate(request: ToolRequest, options: { signal: AbortSignal }): Awaitable<Decision>;
  /** Releases resources such as file watchers. */
  close?(): Awaitable<void>;
}
