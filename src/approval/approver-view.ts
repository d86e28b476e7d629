import type { DeepReadonly, JsonObject, ToolContext, ToolRequest } from '../types.ts';

/**
 * What an approver may see of a call: the guard's redaction, applied to every field of an
 * approval request that carries data or free text. Each method throws when redaction failed (the
 * approval step then denies, and nothing is shown).
 */
export interface ApproverView {
  /** The arguments, redacted as the audit trail records them. */
  args(args: DeepReadonly<JsonObject>): DeepReadonly<JsonObject>;
  /** `context.attributes`, redacted as the audit trail records them. */
  attributes(attributes: DeepReadonly<JsonObject>): DeepReadonly<JsonObject>;
  /** Free text: the reason, and anything else written by a rule or a person. */
  text(text: string): string;
}

/** The parts of an approval request that carry the call's data, as the approver sees them. */
export interface ShownCall {
  readonly args: DeepReadonly<JsonObject>;
  readonly context: DeepReadonly<ToolContext>;
  readonly reason: string;
}

/**
 * The one place where what an approver sees of a call is computed: every channel (callback,
 * terminal, webhook, queue, CLI, framework prompts) receives exactly these values in its
 * `ApprovalRequest`. The approval still binds to the hash of the real arguments. `view` is the
 * guard's redaction when it has one; without one the frozen values are shown as they are.
 * Identity fields (`agent`, `principal`, `intent`, `session`) are shown as they are: they say who
 * is acting, and an approver must see them exactly.
 */
export function shownToApprover(
  request: ToolRequest,
  reason: string,
  view: ApproverView | undefined,
): ShownCall {
  if (view === undefined) return { args: request.args, context: request.context, reason };
  const context = request.context;
  let shownContext = context;
  if (context.attributes !== undefined) {
    const attributes = view.attributes(context.attributes);
    if (attributes !== context.attributes) shownContext = Object.freeze({ ...context, attributes });
  }
  return { args: view.args(request.args), context: shownContext, reason: view.text(reason) };
}
