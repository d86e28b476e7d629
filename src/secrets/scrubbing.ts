import type { AuditDispatcher } from '../audit/dispatch.ts';
import type { Redactor } from '../audit/redact.ts';
import type { SecretScrubber } from './scrubber.ts';

// With the guard's `secrets` option, every value the guard handed out is scrubbed from everything
// that leaves it: records (args, attributes, reasons, outputs, errors), approval prompts, denials,
// `check()` decisions and errors rethrown to the caller. All of those already pass through the
// audit dispatcher's redaction, so the scrubber is added to it, in one place.

/**
 * The redactor with the scrubber after it: the configured redaction, then every handed-out value
 * replaced by its marker (after, so the built-in detectors never rewrite a `[secret:name]`
 * marker into `[REDACTED]`, and a value they only partly caught is still replaced whole).
 * A failed redaction stays a failure.
 */
export function scrubbingRedactor(redactor: Redactor, scrubber: SecretScrubber): Redactor {
  return Object.freeze({
    active: true,
    redact: (value: unknown, root: Parameters<Redactor['redact']>[1], extraPaths?: readonly string[]) => {
      const redacted = redactor.redact(value, root, extraPaths);
      return redacted === undefined ? undefined : scrubber.value(redacted);
    },
    redactText: (text: string) => {
      const redacted = redactor.redactText(text);
      return redacted === undefined ? undefined : scrubber.text(redacted);
    },
    redactValue: (value: unknown) => {
      const redacted = redactor.redactValue(value);
      return redacted === undefined ? undefined : scrubber.value(redacted);
    },
  });
}

/** The audit dispatcher whose every record and approval prompt is scrubbed of secrets first. */
export function scrubbingAudit(audit: AuditDispatcher, scrubber: SecretScrubber): AuditDispatcher {
  const redactor = scrubbingRedactor(audit.redactor, scrubber);
  return Object.freeze({
    mode: audit.mode,
    sinks: audit.sinks,
    redactor,
    record: (event) => audit.record(event),
    recordDurable: (event) => audit.recordDurable(event),
    recordedArgs: (args) => {
      const recorded = audit.recordedArgs(args);
      return recorded === undefined ? undefined : scrubber.value(recorded);
    },
    recordedAttributes: (attributes) => {
      const recorded = audit.recordedAttributes(attributes);
      return recorded === undefined ? undefined : scrubber.value(recorded);
    },
    recordedText: (text) => scrubber.text(audit.recordedText(text)),
    describeResult: (event, output, redactPaths) =>
      audit.describeResult(event, scrubber.value(output), redactPaths),
    dropped: () => audit.dropped(),
    flush: (timeoutMs) => audit.flush(timeoutMs),
    close: (timeoutMs) => audit.close(timeoutMs),
  } satisfies AuditDispatcher);
}
