import type { AuditDispatcher } from './dispatch.ts';
import type { PolicyReloadEvent } from './types.ts';

interface ReloadInfo {
  readonly ok?: unknown;
  readonly source?: unknown;
  readonly policyVersion?: unknown;
  readonly previousVersion?: unknown;
  readonly rules?: unknown;
  readonly reason?: unknown;
}

interface Reloadable {
  on(event: string, listener: (info: ReloadInfo) => void): unknown;
  off?(event: string, listener: (info: ReloadInfo) => void): unknown;
}

/**
 * Records a `policy-reload` audit event whenever an engine that emits `policy-reload` /
 * `policy-reload-failed` (such as `loadPolicy(…, { watch: true })`) reloads. Returns the unsubscriber.
 */
export function recordPolicyReloads(
  policy: unknown,
  audit: AuditDispatcher,
  now: () => number,
  generateId: () => string,
): () => void {
  const engine = policy as Partial<Reloadable> | null;
  if (typeof engine !== 'object' || engine === null || typeof engine.on !== 'function') return () => {};
  const listener = (info: ReloadInfo) => {
    const event: { -readonly [K in keyof PolicyReloadEvent]: PolicyReloadEvent[K] } = {
      v: 1,
      id: generateId(),
      ts: now(),
      type: 'policy-reload',
      ok: info?.ok === true,
    };
    if (typeof info?.policyVersion === 'string') event.policyVersion = info.policyVersion;
    if (typeof info?.previousVersion === 'string') event.previousVersion = info.previousVersion;
    if (typeof info?.source === 'string') event.source = info.source;
    if (typeof info?.rules === 'number') event.rules = info.rules;
    if (typeof info?.reason === 'string') event.reason = audit.recordedText(info.reason);
    audit.record(event);
  };
  try {
    engine.on('policy-reload', listener);
    engine.on('policy-reload-failed', listener);
  } catch {
    return () => {};
  }
  return () => {
    try {
      engine.off?.('policy-reload', listener);
      engine.off?.('policy-reload-failed', listener);
    } catch {
      // Nothing to undo.
    }
  };
}
