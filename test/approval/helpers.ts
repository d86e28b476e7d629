import {
  type ApprovalProvider,
  type ApprovalRequest,
  type AuditEvent,
  createGuard,
  type Decision,
  type GuardOptions,
  memoryAudit,
  type PolicyEngine,
  type ToolRequest,
} from '../../src/index.ts';

/** A policy engine answering with a function of the request. */
export function engine(decide: (request: ToolRequest) => Decision, version?: string): PolicyEngine {
  return version === undefined
    ? { name: 'test', evaluate: decide }
    : { name: 'test', version, evaluate: decide };
}

export const ask = (approval?: Extract<Decision, { type: 'ask' }>['approval']): Decision =>
  approval === undefined
    ? { type: 'ask', rules: ['needs-human'], reason: 'needs a human' }
    : { type: 'ask', rules: ['needs-human'], reason: 'needs a human', approval };

/** A tool spy. */
export function spy<R = string>(result: R = 'ran' as R) {
  const calls: unknown[] = [];
  return {
    calls,
    fn: (args: unknown) => {
      calls.push(args);
      return result;
    },
  };
}

/** A guard with a memory audit and `onDeny: 'return'`. */
export function setup(options: Omit<GuardOptions<'return'>, 'onDeny' | 'audit'>) {
  const audit = memoryAudit();
  const tg = createGuard({ ...options, onDeny: 'return', audit });
  return { tg, audit };
}

export function ofType<T extends AuditEvent['type']>(events: readonly AuditEvent[], type: T) {
  return events.filter((event) => event.type === type) as Extract<AuditEvent, { type: T }>[];
}

/** An approver whose answers the test gives by hand, after seeing each request. */
export function manualApprover(name = 'manual') {
  const waiting: {
    request: ApprovalRequest;
    signal: AbortSignal;
    resolve: (value: unknown) => void;
    late?: (value: unknown) => void;
  }[] = [];
  let notify: (() => void) | undefined;
  const provider: ApprovalProvider = {
    name,
    request(request, options) {
      return new Promise((resolve) => {
        const entry: (typeof waiting)[number] = {
          request,
          signal: options.signal,
          resolve: resolve as never,
        };
        if (options.onLateResponse !== undefined) entry.late = options.onLateResponse;
        waiting.push(entry);
        notify?.();
      });
    },
  };
  return {
    provider,
    waiting,
    /** Resolves when at least `count` requests have arrived. */
    async arrived(count = 1) {
      while (waiting.length < count) await new Promise<void>((resolve) => (notify = resolve));
      return waiting[count - 1]!;
    },
  };
}
