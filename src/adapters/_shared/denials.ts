import { failedLine } from '../../_internal/failed-text.ts';
import { GuardError, ToolDeniedError } from '../../errors.ts';
import type { DenialDetail } from '../../guard-types.ts';
import { DENY_CODES, type DenyCode, type FailedCondition, type ToolDenial } from '../../types.ts';

/** A ToolDenial for a ToolDeniedError or ToolInterruptedError; undefined for anything else. */
export function denialFromError(error: unknown): ToolDenial | undefined {
  if (!GuardError.isInstance(error)) return undefined;
  const { code, reason, tool, callId } = error as GuardError & Partial<ToolDenial>;
  if (
    !isDenyCode(code) ||
    typeof reason !== 'string' ||
    typeof tool !== 'string' ||
    typeof callId !== 'string'
  )
    return undefined;
  const denial: { -readonly [K in keyof ToolDenial]: ToolDenial[K] } = {
    denied: true,
    code,
    reason,
    tool,
    callId,
    failed: ToolDeniedError.isInstance(error) ? error.failed : NONE,
  };
  if (ToolDeniedError.isInstance(error) && error.rule !== undefined) denial.rule = error.rule;
  return Object.freeze(denial);
}

const NONE: readonly FailedCondition[] = Object.freeze([]);

/** The value as a ToolDenial if it has exactly that shape (the guard's `onDeny: 'return'` result). */
export function asDenial(value: unknown): ToolDenial | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.denied !== true || !isDenyCode(v.code) || typeof v.reason !== 'string' || typeof v.tool !== 'string')
    return undefined;
  return value as ToolDenial;
}

function isDenyCode(code: unknown): code is DenyCode {
  return typeof code === 'string' && (DENY_CODES as readonly string[]).includes(code);
}

/** What a denial message is built from: a ToolDenial, or the parts of a deny decision. */
export type DenialParts = Pick<ToolDenial, 'code' | 'reason' | 'tool'> & {
  readonly rule?: string | undefined;
  readonly failed?: readonly FailedCondition[] | undefined;
};

/**
 * The sentence a model is shown for a denied call, as much of it as the guard's `denialDetail`
 * allows: the code (`'code'`), and the reason (`'reason'`, the default), and the rule and the
 * failed conditions (`'full'`).
 */
export function denialMessage(denial: DenialParts, detail: DenialDetail = 'reason'): string {
  const head = `toolgate denied ${denial.tool} (${denial.code})`;
  if (detail === 'code') return head;
  const text = `${head}: ${denial.reason}`;
  if (detail !== 'full') return text;
  const failed = denial.failed ?? [];
  if (failed.length > 0) return `${text} [${failedLine(failed)}]`;
  return denial.rule === undefined ? text : `${text} [rule ${denial.rule}]`;
}

/** The guard's `denialDetail` (`'reason'` for a guard object from before the option). */
export function detailOf(guard: { readonly denialDetail?: DenialDetail }): DenialDetail {
  return guard.denialDetail ?? 'reason';
}
