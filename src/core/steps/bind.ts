import { deny } from '../../policy/evaluate.ts';
import type { Call, StepResult } from '../call.ts';
import type { GuardCore } from '../guard-core.ts';

/**
 * The secrets the tool declared are bound to it and to the call's principal (the guard's
 * `secrets.bindings`), checked before anyone is asked or any limit is taken, so a dry run answers
 * as the call would and no person approves a call that cannot get its secrets. The values
 * themselves are fetched later, in the secrets step. `SECRET_NOT_BOUND`.
 */
export function bind(call: Call, core: GuardCore): StepResult {
  const names = call.definition.secrets;
  const broker = core.secrets;
  if (names.length === 0 || broker === undefined) return undefined;
  const refused = broker.unbound(call.tool.name, names, call.context.principal);
  return refused === undefined ? undefined : deny(refused.code, refused.reason);
}
