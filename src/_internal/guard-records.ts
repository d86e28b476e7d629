import type { AuditEvent } from '../audit/types.ts';

/**
 * What an entry point built on a guard records besides calls (the MCP HTTP listener's sessions
 * and refusals): events stamped with the guard's ids and clock, written through the guard's audit
 * to every sink it has, so one trail (one hash chain, for a JSONL sink) holds them with the calls.
 */
export interface GuardRecorder {
  /** Best-effort, as the guard's own non-call events (suspensions): never throws. */
  record(build: (id: string, ts: number) => AuditEvent): void;
  /** Free text as the guard records it (redacted). */
  recordedText(text: string): string;
  /**
   * A secret the entry point handed out itself (an MCP server's environment): from now on it is
   * scrubbed from everything the guard returns and records, as the guard's own secrets are.
   * Throws when the guard has no `secrets` option, or the value is too short to find.
   */
  handedOut(name: string, value: string): void;
  /**
   * A value an entry point passes on outside a call's result (an AI SDK tool's preliminary
   * results): scrubbed of the guard's secrets as a result is (itself when there are none).
   */
  shown(value: unknown): unknown;
}

const recorders = new WeakMap<object, GuardRecorder>();

/** Called once by `createGuard` for the guard it returns. */
export function registerGuardRecorder(tg: object, recorder: GuardRecorder): void {
  recorders.set(tg, recorder);
}

/** The recorder of a guard made by `createGuard`; undefined for anything else. */
export function guardRecorder(tg: object): GuardRecorder | undefined {
  return recorders.get(tg);
}
