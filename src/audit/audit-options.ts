import { parseDuration } from '../_internal/duration.ts';
import { ConfigurationError } from '../errors.ts';
import { normalizeCapture, type OutputCapture } from './output.ts';
import { createRedactor, type Redactor } from './redact.ts';
import type { AuditMode, AuditOption, AuditSink } from './types.ts';

// The guard's `audit` option, read and checked once at construction (src/audit/dispatch.ts uses it).

/** Events a failing sink keeps for retry in best-effort mode, by default. */
const RETRY_BUFFER = 1_000;

/** Reads the `audit` option: sinks, mode and settings. Invalid options throw a ConfigurationError. */
export function normalizeAuditOption(option: AuditOption | undefined): {
  sinks: readonly AuditSink[];
  mode: AuditMode;
  timeoutMs: number;
  redactor: Redactor;
  capture: OutputCapture;
  retryBuffer: number;
} {
  let sinks: readonly AuditSink[];
  let mode: AuditMode = 'best-effort';
  let timeoutMs = 5_000;
  let redactor = createRedactor(undefined);
  let capture = normalizeCapture(undefined);
  let retryBuffer = RETRY_BUFFER;
  if (option === undefined) sinks = [];
  else if (Array.isArray(option)) sinks = option as readonly AuditSink[];
  else if (isSink(option)) sinks = [option];
  else {
    const config = option as Exclude<AuditOption, AuditSink | readonly AuditSink[]>;
    if (!Array.isArray(config.sinks))
      throw new ConfigurationError('audit.sinks must be an array of audit sinks');
    sinks = config.sinks;
    if (config.mode !== undefined) {
      if (config.mode !== 'best-effort' && config.mode !== 'fail-closed') {
        throw new ConfigurationError(`audit.mode must be 'best-effort' or 'fail-closed'`);
      }
      mode = config.mode;
    }
    if (config.timeout !== undefined) timeoutMs = parseDuration(config.timeout, 'audit.timeout');
    if (config.redact !== undefined) redactor = createRedactor(config.redact);
    if (config.output !== undefined) capture = normalizeCapture(config.output);
    if (config.retryBuffer !== undefined) {
      if (!Number.isSafeInteger(config.retryBuffer) || config.retryBuffer < 0)
        throw new ConfigurationError('audit.retryBuffer must be a non-negative integer');
      retryBuffer = config.retryBuffer;
    }
  }
  sinks.forEach((sink, index) => {
    if (!isSink(sink))
      throw new ConfigurationError(`audit sink #${index} must have a name and a write() method`);
  });
  if (mode === 'fail-closed' && sinks.length === 0) {
    throw new ConfigurationError('audit mode fail-closed needs at least one sink');
  }
  return { sinks: Object.freeze([...sinks]), mode, timeoutMs, redactor, capture, retryBuffer };
}

function isSink(value: unknown): value is AuditSink {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AuditSink).name === 'string' &&
    typeof (value as AuditSink).write === 'function'
  );
}
