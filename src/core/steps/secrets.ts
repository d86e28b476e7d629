import { deny } from '../../policy/evaluate.ts';
import type { SecretsResult } from '../../secrets/broker.ts';
import type { Call, StepResult } from '../call.ts';
import { after } from '../driver.ts';
import type { GuardCore } from '../guard-core.ts';

/**
 * The secrets the tool declared, fetched just in time from the guard's `secrets` provider after
 * the call was allowed (and approved) and before its decision record, so a failure is the call's
 * one decision and the tool never runs; the scrubber remembers each value handed out.
 * `SECRET_NOT_BOUND` (a binding that excludes the call's principal), `SECRET_UNAVAILABLE`.
 */
export function secrets(call: Call, core: GuardCore): StepResult | Promise<StepResult> {
  const names = call.definition.secrets;
  const broker = core.secrets;
  if (names.length === 0 || broker === undefined) return undefined;
  const fetched = broker.fetch(
    call.tool.name,
    names,
    {
      callId: call.callId,
      context: call.context,
      ...(call.signal === undefined ? {} : { signal: call.signal }),
    },
    core.now(),
  );
  return after(fetched as SecretsResult | Promise<SecretsResult>, call, core, handed);
}

function handed(call: Call, _core: GuardCore, result: SecretsResult): StepResult {
  if (!result.ok) return deny(result.code, result.reason);
  call.secrets = result.secrets;
  return undefined;
}
