import { deny } from '../../policy/evaluate.ts';
import type { DenyDecision } from '../../types.ts';
import type { Call, StepResult } from '../call.ts';
import type { GuardCore } from '../guard-core.ts';

const UNREDACTABLE: DenyDecision = deny(
  'AUDIT_UNAVAILABLE',
  'the arguments could not be redacted for the audit trail',
);

/**
 * The args as the audit trail and approvers will show them, redacted. When redaction fails
 * nothing about the call could be recorded safely, so it is denied before anything is decided.
 * `AUDIT_UNAVAILABLE`.
 */
export function redact(call: Call, core: GuardCore): StepResult {
  return core.events.recordedArgs(call) === undefined ? UNREDACTABLE : undefined;
}
