import type { AuditEvent, AuditSink } from './types.ts';

/**
 * Writes each event as one JSON line to a console-like logger (default: `console.log`).
 * @param options.log the function that prints a line.
 */
export function consoleAudit(options: { log?: (line: string) => void } = {}): AuditSink {
  const log = options.log ?? ((line: string) => console.log(line));
  return {
    name: 'console',
    write(event: AuditEvent) {
      log(JSON.stringify(event));
    },
  };
}
