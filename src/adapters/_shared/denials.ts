import { GuardError } from '../../errors.ts';
import { DENY_CODES, type DenyCode, type ToolDenial } from '../../types.ts';

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
  return Object.freeze({ denied: true, code, reason, tool, callId });
}

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

/** The sentence a model is shown for a denied call. */
export function denialMessage(denial: Pick<ToolDenial, 'code' | 'reason' | 'tool'>): string {
  return `toolgate denied ${denial.tool} (${denial.code}): ${denial.reason}`;
}
