import { guardRecorder } from '../../_internal/guard-records.ts';
import type { AccessEvent } from '../../audit/types.ts';
import type { HttpCaller } from './http-session.ts';

// The Streamable HTTP listener's own records (http-listener.ts): sessions started and ended, and
// requests refused at the door, as `access` events in the guard's audit trail.

/** Refusals recorded one by one per second; the rest are counted (an attacker spraying tokens). */
const REFUSALS_PER_SECOND = 20;

type AccessFields = Omit<AccessEvent, 'v' | 'id' | 'ts' | 'type' | 'door' | 'server'>;

/** What the listener records about its door. */
export interface AccessLog {
  started(caller: HttpCaller): void;
  ended(caller: HttpCaller, startedAt: number, reason: string): void;
  /** A request refused before it reached the guard; `caller` once its credential verified. */
  refused(status: number, code: string, reason: string, caller?: HttpCaller): void;
  /** Records the count of refusals not yet recorded. */
  close(): void;
}

/**
 * The access log of a listener in front of `tg`: its events go through the guard's audit (every
 * sink; one chain with the calls for a JSONL sink), and each refusal also to `log`, at most
 * `REFUSALS_PER_SECOND` a second (the rest counted, recorded and logged once the second is over).
 */
export function accessLog(tg: object, server: string | undefined, log: (line: string) => void): AccessLog {
  const recorder = guardRecorder(tg);
  const write = (fields: AccessFields) => {
    recorder?.record(
      (id, ts) =>
        Object.freeze({
          v: 1,
          id,
          ts,
          type: 'access',
          door: 'mcp-http',
          ...(server === undefined ? {} : { server }),
          ...fields,
        }) as AccessEvent,
    );
  };
  const text = (value: string) => (recorder === undefined ? value : recorder.recordedText(value));
  let windowStart = Number.NEGATIVE_INFINITY;
  let inWindow = 0;
  let suppressed = 0;
  let timer: NodeJS.Timeout | undefined;
  const recordSuppressed = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (suppressed === 0) return;
    const count = suppressed;
    suppressed = 0;
    const reason = `${count} more refused requests in one second were counted, not recorded one by one`;
    write({ action: 'refused', code: 'SUPPRESSED', suppressed: count, reason });
    log(`toolgate mcp-proxy: ${reason}`);
  };
  return {
    started(caller) {
      write({ action: 'session-start', agent: caller.agent, principal: caller.principal });
    },
    ended(caller, startedAt, reason) {
      write({
        action: 'session-end',
        agent: caller.agent,
        principal: caller.principal,
        reason: text(reason),
        durationMs: Math.max(0, Date.now() - startedAt),
      });
    },
    refused(status, code, reason, caller) {
      const now = Date.now();
      if (now - windowStart >= 1_000) {
        recordSuppressed();
        windowStart = now;
        inWindow = 0;
      }
      if (inWindow >= REFUSALS_PER_SECOND) {
        suppressed += 1;
        if (timer === undefined) {
          timer = setTimeout(recordSuppressed, Math.max(0, windowStart + 1_000 - now));
          timer.unref();
        }
        return;
      }
      inWindow += 1;
      const shown = text(reason);
      write({
        action: 'refused',
        status,
        code,
        reason: shown,
        ...(caller === undefined ? {} : { agent: caller.agent, principal: caller.principal }),
      });
      const who = caller === undefined ? '' : ` (${caller.agent} for ${caller.principal})`;
      log(`toolgate mcp-proxy: refused ${status} ${code}${who}: ${shown}`);
    },
    close: recordSuppressed,
  };
}
