import { ConfigurationError, ToolDeniedError } from '../../errors.ts';
import type { ToolDenial } from '../../types.ts';

/**
 * What an adapter does with a denied call: `'return'` hands the denial back in the framework's own
 * shape (what the model reads), `'throw'` rejects with the guard's error (`ToolDeniedError`).
 */
export type AdapterOnDeny = 'throw' | 'return';

/**
 * Older spellings of `'return'`: `'result'` (AI SDK) and `'message'` (LangChain, OpenAI Agents).
 * @deprecated Use `'return'`.
 */
export type DeprecatedOnDeny = 'result' | 'message';

/** The `onDeny` option of every adapter: `'throw'`, `'return'`, or a deprecated spelling of `'return'`. */
export type OnDenyOption = AdapterOnDeny | DeprecatedOnDeny;

let deprecationShown = false;

/**
 * Reads an adapter's `onDeny` option at construction: `'return'` (the default) or `'throw'`; the
 * deprecated `'result'` and `'message'` mean `'return'`; anything else throws a ConfigurationError.
 */
export function parseOnDeny(value: unknown, where: string): AdapterOnDeny {
  if (value === undefined || value === 'return') return 'return';
  if (value === 'throw') return 'throw';
  if (value === 'result' || value === 'message') {
    if (!deprecationShown) {
      deprecationShown = true;
      process.emitWarning(`toolgate: ${where}: onDeny: '${value}' is deprecated, use onDeny: 'return'`, {
        type: 'DeprecationWarning',
        code: 'TOOLGATE_DEP_ON_DENY',
      });
    }
    return 'return';
  }
  throw new ConfigurationError(`${where}: onDeny must be 'throw' or 'return', not ${JSON.stringify(value)}`);
}

/**
 * The error an adapter throws for a denial with `onDeny: 'throw'`: the guard's own error when it
 * threw one, else (a guard created with `onDeny: 'return'`) a ToolDeniedError for the denial.
 */
export function denialError(outcome: { readonly denial: ToolDenial; readonly error?: unknown }): unknown {
  if (outcome.error !== undefined) return outcome.error;
  const { code, reason, tool, callId, rule, failed } = outcome.denial;
  return new ToolDeniedError({
    code,
    reason,
    tool,
    callId,
    rule,
    failed,
    decision: { type: 'deny', rules: rule === undefined ? [] : [rule], code, reason, failed: failed ?? [] },
  });
}
