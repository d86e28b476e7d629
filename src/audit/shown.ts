import { scrubThrown } from '../secrets/scrub-result.ts';
import type { SecretScrubber } from '../secrets/scrubber.ts';
import type { Decision, FailedCondition } from '../types.ts';
import type { Redactor } from './redact.ts';

/** What a text becomes when redaction failed: nothing of it is shown. */
export const REDACTION_FAILED = '[REDACTION FAILED]';

/** Fields of a decision that name things rather than describe them: shown as they are. */
const NAMES: ReadonlySet<string> = new Set(['type', 'code', 'rules', 'policyVersion', 'retryAfterMs']);

/**
 * A decision as it leaves the guard (in `ToolDeniedError`, a returned denial, `tg.check()`):
 * its reason and every other field that can carry data (condition details, obligations) go
 * through the guard's redaction; its type, code and rule ids stay as they are. When redaction
 * fails, only those names are kept and the reason says so.
 */
export function shownDecision<D extends Decision>(decision: D, redactor: Redactor): D {
  if (!redactor.active) return decision;
  let shown: Record<string, unknown> | undefined;
  const record = decision as unknown as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (NAMES.has(key)) continue;
    const redacted =
      key === 'failed'
        ? shownFailed(value as readonly FailedCondition[], redactor)
        : typeof value === 'string'
          ? redactor.redactText(value)
          : redactor.redactValue(value);
    if (redacted === undefined && value !== undefined) return failed(decision);
    if (redacted === value) continue;
    shown ??= { ...record };
    shown[key] = redacted;
  }
  return shown === undefined ? decision : (Object.freeze(shown) as unknown as D);
}

/**
 * A denial's failed conditions as they leave the guard: each `actual` is redacted as if it stood
 * at its path in the args or attributes (so `args.password` is hidden like it is in the record),
 * texts through the detectors. An entry whose redaction failed keeps only its rule and path.
 */
export function shownFailed(
  failed: readonly FailedCondition[],
  redactor: Redactor,
): readonly FailedCondition[] {
  if (!redactor.active) return failed;
  let changed = false;
  const shown = failed.map((entry) => {
    const next = shownEntry(entry, redactor);
    if (next !== entry) changed = true;
    return next;
  });
  return changed ? Object.freeze(shown) : failed;
}

function shownEntry(entry: FailedCondition, redactor: Redactor): FailedCondition {
  try {
    const out: { -readonly [K in keyof FailedCondition]: FailedCondition[K] } = { ...entry };
    let changed = false;
    for (const field of ['expected', 'problem'] as const) {
      const text = entry[field];
      if (text === undefined) continue;
      const redacted = redactor.redactText(text);
      if (redacted === undefined) throw new Error('redaction failed');
      if (redacted !== text) {
        out[field] = redacted;
        changed = true;
      }
    }
    if (Object.hasOwn(entry, 'actual')) {
      const actual = redactedAt(entry.path, entry.actual, redactor);
      if (actual !== entry.actual) {
        out.actual = actual as FailedCondition['actual'] & {};
        changed = true;
      }
    }
    return changed ? Object.freeze(out) : entry;
  } catch {
    const kept: { -readonly [K in keyof FailedCondition]: FailedCondition[K] } = {
      path: entry.path,
      expected: REDACTION_FAILED,
    };
    if (entry.rule !== undefined) kept.rule = entry.rule;
    return Object.freeze(kept);
  }
}

/** `value` redacted as the value at `path` (`args.…`, `context.attributes.…`, or any other field). */
function redactedAt(path: string, value: unknown, redactor: Redactor): unknown {
  const segments = path.split('.');
  const root = segments[0] === 'args' ? 'args' : segments[1] === 'attributes' ? 'attributes' : undefined;
  const below = root === undefined ? segments.slice(-1) : segments.slice(root === 'args' ? 1 : 2);
  if (below.length === 0) {
    const redacted = redactor.redactValue(value);
    if (redacted === undefined && value !== undefined) throw new Error('redaction failed');
    return redacted;
  }
  let wrapped: unknown = value;
  for (let i = below.length - 1; i >= 0; i--) wrapped = { [below[i]!]: wrapped };
  const redacted =
    root === undefined
      ? redactor.redactValue(wrapped)
      : redactor.redact(wrapped, root as 'args' | 'attributes');
  if (redacted === undefined) throw new Error('redaction failed');
  if (redacted === wrapped) return value;
  // One key per level (perhaps renamed, when the key itself held a secret); a level replaced whole ends the walk.
  let inner: unknown = redacted;
  for (let i = 0; i < below.length && typeof inner === 'object' && inner !== null; i++)
    inner = Object.values(inner)[0];
  return inner;
}

function failed<D extends Decision>(decision: D): D {
  const record = decision as unknown as Record<string, unknown>;
  const kept: Record<string, unknown> = { reason: REDACTION_FAILED };
  for (const key of NAMES) if (record[key] !== undefined) kept[key] = record[key];
  return Object.freeze(kept) as unknown as D;
}

/**
 * A tool's own error as it goes back to the caller (and from there, often, to the model): the
 * name, message and stack of an Error (and of its `cause` chain) are redacted in place, so it
 * stays the same object; a thrown string is redacted. An Error whose message cannot be rewritten
 * (frozen) is replaced by a plain Error carrying the redacted name and message. With the guard's
 * `secrets`, everything thrown is then scrubbed of handed-out values (`scrubThrown`): the error's
 * own properties, `cause` chain and `errors` too, and a thrown value that is not an Error.
 */
export function shownError(error: unknown, redactor: Redactor, scrubber?: SecretScrubber): unknown {
  if (!redactor.active && scrubber === undefined) return error;
  try {
    const redacted = redactedError(error, redactor);
    return scrubber === undefined ? redacted : scrubThrown(redacted, scrubber);
  } catch {
    // An error that cannot be read (a Proxy whose traps throw, a getter on `name`): it cannot be
    // redacted either, so it does not go back as it is. Never a throw here: this runs where the
    // call settles, and a throw would leave the call unsettled and its result unrecorded.
    return new Error(UNREADABLE_ERROR);
  }
}

/** What goes back in place of a tool's error that could not be read to be redacted. */
export const UNREADABLE_ERROR =
  'the tool failed with an error that could not be read (withheld: it could not be redacted)';

function redactedError(error: unknown, redactor: Redactor): unknown {
  if (!redactor.active) return error;
  if (typeof error === 'string') return redactor.redactText(error) ?? REDACTION_FAILED;
  if (!(error instanceof Error)) return error;
  let parent: Error | undefined;
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 8; depth++) {
    if (!rewrite(current, redactor)) {
      const replacement = plainCopy(current, redactor);
      if (parent === undefined) return replacement;
      try {
        Object.defineProperty(parent, 'cause', { value: replacement, writable: true, configurable: true });
      } catch {
        // A parent that takes no new cause is replaced whole.
        return plainCopy(error, redactor);
      }
      break;
    }
    parent = current;
    current = (current as { cause?: unknown }).cause;
  }
  return error;
}

function plainCopy(error: Error, redactor: Redactor): Error {
  let message: string;
  try {
    message = redactor.redactText(String(error.message)) ?? REDACTION_FAILED;
  } catch {
    message = REDACTION_FAILED;
  }
  const copy = new Error(message);
  try {
    copy.name =
      typeof error.name === 'string' ? (redactor.redactText(error.name) ?? REDACTION_FAILED) : 'Error';
  } catch {
    copy.name = 'Error';
  }
  return copy;
}

/** Rewrites `name`, `message` and `stack` of one error; false when they could not be rewritten. */
function rewrite(error: Error, redactor: Redactor): boolean {
  try {
    for (const field of ['name', 'message', 'stack'] as const) {
      const text = error[field];
      if (typeof text !== 'string') continue;
      const redacted = redactor.redactText(text) ?? REDACTION_FAILED;
      if (redacted === text) continue;
      Object.defineProperty(error, field, {
        value: redacted,
        writable: true,
        enumerable: Object.getOwnPropertyDescriptor(error, field)?.enumerable ?? false,
        configurable: true,
      });
    }
    return true;
  } catch {
    return false;
  }
}
