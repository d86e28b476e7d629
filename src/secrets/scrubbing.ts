import type { AuditDispatcher } from '../audit/dispatch.ts';
import type { Redactor } from '../audit/redact.ts';
import type { SecretScrubber } from './scrubber.ts';

// With the guard's `secrets` option, every value the guard handed out is scrubbed from everything
// that leaves it: records (args, attributes, reasons, outputs, errors), approval prompts, denials,
// `check()` decisions and errors rethrown to the caller. All of those already pass through the
// audit dispatcher's redaction, so the scrubber is put in front of it, in one place.

/** The redactor with the scrubber in front: secrets first, then the configured redaction. */
export function scrubbingRedactor(redactor: Redactor, scrubber: SecretScrubber): Redactor {
  return Object.freeze({
    active: true,
    redact: (value: unknown, root: Parameters<Redactor['redact']>[1], extraPaths?: readonly string[]) =>
      redactor.redact(scrubber.value(value), root, extraPaths),
    redactText: (text: string) => {
      const redacted = redactor.redactText(scrubber.text(text));
      return redacted === undefined ? undefined : scrubber.text(redacted);
    },
    redactValue: (value: unknown) => redactor.redactValue(scrubber.value(value)),
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
      const recorded = audit.recordedArgs(scrubber.value(args));
      return recorded === undefined ? undefined : scrubber.value(recorded);
    },
    recordedAttributes: (attributes) => {
      const recorded = audit.recordedAttributes(scrubber.value(attributes));
      return recorded === undefined ? undefined : scrubber.value(recorded);
    },
    recordedText: (text) => audit.recordedText(scrubber.text(text)),
    describeResult: (event, output, redactPaths) =>
      audit.describeResult(event, scrubber.value(output), redactPaths),
    dropped: () => audit.dropped(),
    flush: () => audit.flush(),
    close: () => audit.close(),
  } satisfies AuditDispatcher);
}
