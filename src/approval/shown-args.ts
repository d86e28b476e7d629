import type { DeepReadonly, JsonObject, ToolRequest } from '../types.ts';

/** Turns a call's arguments into what an approver may see (redaction). */
export type ShowArgs = (args: DeepReadonly<JsonObject>, request: ToolRequest) => DeepReadonly<JsonObject>;

/**
 * The one place where the arguments shown to an approver are computed: every channel (callback,
 * terminal, webhook, queue, CLI) receives exactly this value as `ApprovalRequest.args`. The
 * approval still binds to the hash of the real arguments. `redact` is the guard's redactor when it
 * has one; without one the frozen arguments are shown as they are.
 */
export function argsForApprover(
  request: ToolRequest,
  redact: ShowArgs | undefined,
): DeepReadonly<JsonObject> {
  return redact === undefined ? request.args : redact(request.args, request);
}
