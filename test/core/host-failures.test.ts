import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  createGuard,
  type Decision,
  memoryAudit,
  memoryStore,
  type PolicyEngine,
  queueApprover,
  rules,
  type StateStore,
} from '../../src/index.ts';

// Host components that fail in ways no step foresaw (a getter that throws on an answer, a Proxy,
// an async function where a value was due, a store that never answers): every call still ends
// denied or settled, recorded, with what the limits step took given back, and nothing reaches the
// process as an unhandled rejection.

const types = (events: readonly AuditEvent[]) => events.map((event) => event.type);
const throwing = (name: string) =>
  Object.defineProperty({}, name, {
    get() {
      throw new Error(`${name} getter boom`);
    },
    enumerable: true,
  });
/** `target` behind a Proxy whose `getPrototypeOf` trap throws (so `instanceof` on it throws). */
const trapping = (target: object = {}) =>
  new Proxy(target, {
    getPrototypeOf() {
      throw new Error('trap');
    },
  });

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  // Rejections are reported after the microtasks of the turn they happen in.
  await new Promise((resolve) => setTimeout(resolve, 20));
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe('a step whose host component fails unforeseen denies with the code of that step, recorded', () => {
  it('an input schema whose result has a throwing getter: INVALID_ARGS', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: rules([{ id: 'a', effect: 'allow', tool: 't' }]), audit });
    const input = {
      '~standard': { version: 1 as const, vendor: 'x', validate: () => throwing('issues') as never },
    };
    const tool = tg.guard(async () => 'ran', { name: 't', input });
    await expect(tool({ a: 1 })).rejects.toMatchObject({
      code: 'INVALID_ARGS',
      reason: 'the validate step failed: Error: issues getter boom',
    });
    await expect(tg.check('t', { a: 1 })).resolves.toMatchObject({ code: 'INVALID_ARGS' });
    expect(types(audit.events)).toEqual(['decision']);
  });

  it('a store whose grant records have a throwing getter: STORE_UNAVAILABLE', async () => {
    const audit = memoryAudit();
    const store: StateStore = { ...memoryStore(), list: () => [throwing('value') as never] };
    const tg = createGuard({ policy: rules([{ id: 'o', effect: 'allow', tool: 'other' }]), audit, store });
    await expect(tg.guard(async () => 'ran', { name: 't' })({})).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      reason: 'the grant step failed: Error: value getter boom',
    });
    expect(types(audit.events)).toEqual(['decision']);
  });

  it('a secrets provider that rejects with an unprintable error: SECRET_UNAVAILABLE, and the concurrency slot is free again', async () => {
    const audit = memoryAudit();
    const tg = createGuard({
      policy: rules([{ id: 'a', effect: 'allow', tool: 'pay.x', limit: { concurrency: 1 } }]),
      audit,
      secrets: {
        provider: { name: 'vault', get: () => Promise.reject(trapping()) },
        bindings: { stripe: { tools: ['pay.*'] } },
      },
    });
    const tool = tg.guard(async () => 'ran', { name: 'pay.x', secrets: ['stripe'] });
    for (let i = 0; i < 2; i++) await expect(tool({})).rejects.toMatchObject({ code: 'SECRET_UNAVAILABLE' });
    expect(types(audit.events)).toEqual(['decision', 'decision']);
  });
});

describe("a store's synchronous admission that cannot be read", () => {
  it('is no capability: the guard is made and asks admit() instead', async () => {
    const base = memoryStore();
    const store: StateStore = {
      ...base,
      syncAdmission: () =>
        Object.defineProperty({ nothingSuspended: () => true }, 'admitNew', {
          get() {
            throw new Error('admitNew getter boom');
          },
        }) as never,
    };
    const tg = createGuard({
      policy: rules([{ id: 'a', effect: 'allow', tool: 't', limit: { rate: '1/1m' } }]),
      store,
    });
    const tool = tg.guard(async () => 'ran', { name: 't' });
    await expect(tool({})).resolves.toBe('ran');
    await expect(tool({})).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });
});

describe('an async input schema that never answers', () => {
  const never = {
    '~standard': { version: 1 as const, vendor: 'x', validate: () => new Promise<never>(() => {}) },
  };

  it('denies INVALID_ARGS after defaults.policyTimeout, recorded (the call and check() alike)', async () => {
    const audit = memoryAudit();
    const tg = createGuard({
      policy: rules([{ id: 'a', effect: 'allow', tool: 't' }]),
      audit,
      defaults: { policyTimeout: '100ms' },
    });
    const tool = tg.guard(async () => 'ran', { name: 't', input: never });
    await expect(tool({})).rejects.toMatchObject({
      code: 'INVALID_ARGS',
      reason: 'the input schema did not answer within 100 ms (defaults.policyTimeout)',
    });
    await expect(tg.check('t', {})).resolves.toMatchObject({ code: 'INVALID_ARGS' });
    expect(types(audit.events)).toEqual(['decision']);
  });

  it("ends at the caller's abort: CANCELLED, recorded", async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: rules([{ id: 'a', effect: 'allow', tool: 't' }]), audit });
    const tool = tg.guard(async () => 'ran', { name: 't', input: never });
    await expect(tool({}, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(types(audit.events)).toEqual(['decision']);
  });
});

describe('a result that cannot be read is withheld, recorded, and its lease given back', () => {
  const policy: PolicyEngine = {
    name: 'capped',
    evaluate: () =>
      ({
        type: 'allow',
        rules: ['r'],
        obligations: { maxRows: 2 },
        limits: [{ rule: 'r', limits: { concurrency: 1 } }],
      }) as Decision,
  };

  it.each([
    ['a rows getter that throws (maxRows reads it)', () => throwing('rows')],
    [
      'a Proxy whose traps throw',
      () =>
        new Proxy([1, 2], {
          get(_target, key) {
            if (key === 'then') return undefined;
            throw new Error('trap');
          },
        }),
    ],
  ])('%s', async (_, make) => {
    const audit = memoryAudit();
    const tg = createGuard({ policy, audit });
    const error = await tg
      .guard(async () => make(), { name: 't' })({})
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(error?.message).toMatch(/result could not be read .* withheld/);
    expect(audit.events).toMatchObject([{ type: 'decision' }, { type: 'result', outcome: 'error' }]);
    // The slot was given back: the next call runs.
    await expect(tg.guard(async () => 'again', { name: 't' })({})).resolves.toBe('again');
  });

  it('what a throwing getter says never reaches the caller (it could carry a secret)', async () => {
    const tg = createGuard({
      policy: rules([{ id: 'a', effect: 'allow', tool: 'pay.x' }]),
      secrets: {
        provider: { name: 'vault', get: () => ({ value: 'sk_live_0123456789abcdef' }) },
        bindings: { stripe: { tools: ['pay.*'] } },
      },
    });
    const tool = tg.guard(
      async (_args: unknown, { secrets }) =>
        Object.defineProperty({}, 'x', {
          get() {
            throw new Error(`client failed with key ${secrets.stripe}`);
          },
          enumerable: true,
        }),
      { name: 'pay.x', secrets: ['stripe'] },
    );
    const error = (await tool({}).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/withheld/);
    expect(error.message).not.toContain('sk_live');
  });
});

describe('a synchronous tool that returns a Proxy whose getPrototypeOf trap throws', () => {
  it('resolves with it, as its ok record says', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: rules([{ id: 'a', effect: 'allow', tool: 't' }]), audit });
    const odd = trapping({ rows: 1 });
    const result = await tg.guard(() => odd, { name: 't' })({});
    expect(result).toBe(odd);
    expect(audit.events).toMatchObject([{ type: 'decision' }, { type: 'result', outcome: 'ok' }]);
  });
});

describe('async host functions whose promise nobody awaits', () => {
  const boom = async () => {
    throw new Error('backend down');
  };

  it('a rule predicate: POLICY_ERROR, and its rejection is handled', async () => {
    const tg = createGuard({ policy: rules([{ id: 'a', effect: 'allow', tool: 't', when: boom as never }]) });
    await expect(tg.guard(async () => 1, { name: 't' })({})).rejects.toMatchObject({ code: 'POLICY_ERROR' });
  });

  it('a budget cost function: denied, and its rejection is handled', async () => {
    const tg = createGuard({
      policy: {
        name: 'e',
        evaluate: () =>
          ({
            type: 'allow',
            rules: ['r'],
            limits: [{ rule: 'r', limits: { budget: { cost: boom, max: 10, per: '1h' } } }],
          }) as never,
      },
    });
    await expect(tg.guard(async () => 1, { name: 't' })({})).rejects.toMatchObject({
      code: 'BUDGET_EXCEEDED',
    });
  });

  it("queueApprover's onPending: ignored, and its rejection is handled", async () => {
    const store = memoryStore();
    const tg = createGuard({
      policy: rules([{ id: 'a', effect: 'ask', tool: 't' }]),
      store,
      defaults: { approvalTimeout: '100ms' },
      approver: queueApprover({ store, secret: 'x'.repeat(40), onPending: boom }),
    });
    await expect(tg.guard(async () => 1, { name: 't' })({})).rejects.toMatchObject({
      code: 'APPROVAL_TIMEOUT',
    });
  });
});

describe('a store that never answers, outside the steps', () => {
  const silent = (): StateStore => {
    const store: StateStore = { ...memoryStore(), put: () => new Promise(() => {}) };
    delete (store as { syncAdmission?: unknown }).syncAdmission;
    return store;
  };

  it('a remembered approval: the approved call runs without its grant, the issue rejects', async () => {
    const audit = memoryAudit();
    const tg = createGuard({
      policy: rules([{ id: 'ask', effect: 'ask', tool: 't' }]),
      audit,
      store: silent(),
      defaults: { storeTimeout: '100ms' },
      approver: {
        name: 'a',
        request: (r) => ({ requestId: r.id, approved: true, approver: 'user:boss', remember: { for: '1h' } }),
      },
    });
    const errors: string[] = [];
    tg.on('error', ({ source }) => errors.push(source));
    const result = await tg.withContext({ principal: 'user:1' }, () =>
      tg.guard(async () => 'ran', { name: 't' })({}),
    );
    expect(result).toBe('ran');
    expect(types(audit.events)).toEqual(['approval-request', 'approval-response', 'decision', 'result']);
    expect(errors).toContain('grants');
    await expect(tg.grants.issue({ tool: 't', for: '1h' })).rejects.toThrow(
      /the state store did not answer within 100 ms \(grants\)/,
    );
  });

  it('the kill switch: suspend, resume and suspensions() reject instead of hanging', async () => {
    const stuck: StateStore = {
      ...memoryStore(),
      suspend: () => new Promise(() => {}),
      resume: () => new Promise(() => {}),
      suspensions: () => new Promise(() => {}),
    };
    const tg = createGuard({ policy: rules([]), store: stuck, defaults: { storeTimeout: '100ms' } });
    await expect(tg.suspend({ agent: 'bot' })).rejects.toThrow(
      /the state store did not answer within 100 ms \(suspend\)/,
    );
    await expect(tg.resume({ agent: 'bot' })).rejects.toThrow(/within 100 ms \(resume\)/);
    await expect(tg.suspensions()).rejects.toThrow(/within 100 ms \(suspensions\)/);
  });
});
