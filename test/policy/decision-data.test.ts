import { describe, expect, it } from 'vitest';
import {
  type ApprovalRequest,
  callbackApprover,
  createGuard,
  type Decision,
  memoryAudit,
  rules,
} from '../../src/index.ts';
import { normalizeDecision } from '../../src/policy/evaluate.ts';

/** An engine that hands the guard `answer` and keeps it, to change it afterwards. */
const keeper = (answer: unknown) => ({ name: 'keeper', evaluate: () => answer as Decision });

/** Whether every object and array in `value` is frozen, with data properties only. */
function frozenThroughout(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (!Object.isFrozen(value)) return false;
  return Object.values(Object.getOwnPropertyDescriptors(value)).every(
    (d) => 'value' in d && frozenThroughout(d.value),
  );
}

/** A Proxy over `target` that counts every trap it runs. */
function counted<T extends object>(target: T): { proxy: T; traps: () => number } {
  let traps = 0;
  const handler = new Proxy(
    {},
    {
      get:
        (_, name) =>
        (...args: unknown[]) => {
          traps += 1;
          return (Reflect as unknown as Record<string | symbol, (...a: unknown[]) => unknown>)[name]!(
            ...args,
          );
        },
    },
  );
  return { proxy: new Proxy(target, handler as ProxyHandler<T>), traps: () => traps };
}

/** A getter that counts its reads and answers `value`. */
function getter(value: unknown): { at: (o: object, key: string | number) => object; reads: () => number } {
  let reads = 0;
  return {
    at: (o, key) =>
      Object.defineProperty(o, key, {
        get: () => {
          reads += 1;
          return value;
        },
        enumerable: true,
        configurable: true,
      }),
    reads: () => reads,
  };
}

describe('a decision is read once, as data, all the way down', () => {
  it('nested parts changed after the engine returned do not change the decision', () => {
    const raw = {
      type: 'ask',
      rules: ['r'],
      reason: 'needs admin',
      approval: { approvers: ['admin:*'], quorum: 2 },
      obligations: { redact: ['card'], maxRows: 10, maxBytes: 1000 },
      limits: [{ rule: 'r', limits: { budget: { sum: 'args.amount', max: 100, per: 60_000 } } }],
    };
    const decision = normalizeDecision(raw) as Extract<Decision, { type: 'ask' }>;
    raw.approval.approvers[0] = '*';
    raw.approval.quorum = 1;
    raw.obligations.redact[0] = 'nothing';
    raw.obligations.maxRows = 1e9;
    raw.obligations.maxBytes = 1e9;
    raw.limits[0]!.limits.budget.max = 1e9;
    raw.limits[0]!.limits.budget.sum = 'args.other';
    expect(decision.approval).toEqual({ approvers: ['admin:*'], quorum: 2 });
    expect(decision.obligations).toEqual({ redact: ['card'], maxRows: 10, maxBytes: 1000 });
    expect(decision.limits?.[0]?.limits.budget).toEqual({ sum: 'args.amount', max: 100, per: 60_000 });
    expect(frozenThroughout(decision)).toBe(true);
  });

  it('approvers widened after the guard validated them do not let an excluded approver in', async () => {
    const approval = { approvers: ['admin:*'], quorum: 2 };
    const audit = memoryAudit();
    const asked: ApprovalRequest[] = [];
    const tg = createGuard({
      policy: {
        name: 'mut',
        evaluate() {
          queueMicrotask(() => {
            approval.approvers[0] = '*';
            approval.quorum = 1;
          });
          return { type: 'ask', rules: ['r'], reason: 'needs admin', approval } as Decision;
        },
      },
      audit,
      approver: callbackApprover(async (request) => {
        asked.push(request);
        return { requestId: request.id, approved: true, approver: 'intern:bob' };
      }),
    });
    let ran = 0;
    const tool = tg.guard(async () => ++ran, { name: 'x' });
    await expect(tool({}, { context: { principal: 'user:1' } })).rejects.toMatchObject({
      code: 'APPROVAL_INVALID',
    });
    expect(ran).toBe(0);
    expect(asked[0]?.requirements).toMatchObject({ approvers: ['admin:*'], quorum: 2 });
  });

  it('redact changed after the decision still redacts the recorded result', async () => {
    const redact = ['card'];
    const audit = memoryAudit();
    const tg = createGuard({
      policy: keeper({ type: 'allow', rules: ['r'], obligations: { redact } }),
      audit: { sinks: [audit], output: { capture: true } },
    });
    const tool = tg.guard(
      async () => {
        redact[0] = 'nothing';
        return { card: '4111-1111' };
      },
      { name: 'y' },
    );
    await tool({});
    const result = audit.events.find((event) => event.type === 'result') as { output?: unknown };
    expect(JSON.stringify(result.output)).not.toContain('4111');
  });

  describe('a Proxy anywhere is POLICY_ERROR, and none of its traps runs', () => {
    const cases: [string, (proxy: object) => Record<string, unknown>, object][] = [
      ['rules', (p) => ({ type: 'allow', rules: p }), ['r']],
      ['approval', (p) => ({ type: 'ask', rules: ['r'], reason: 'x', approval: p }), { quorum: 1 }],
      [
        'approval.approvers',
        (p) => ({ type: 'ask', rules: ['r'], reason: 'x', approval: { approvers: p } }),
        ['a:*'],
      ],
      ['obligations', (p) => ({ type: 'allow', rules: ['r'], obligations: p }), { maxRows: 1 }],
      ['obligations.redact', (p) => ({ type: 'allow', rules: ['r'], obligations: { redact: p } }), ['card']],
      [
        'limits[0].limits',
        (p) => ({ type: 'allow', rules: ['r'], limits: [{ rule: 'r', limits: p }] }),
        { concurrency: 1 },
      ],
    ];
    for (const [where, build, target] of cases) {
      it(`in ${where}`, async () => {
        const { proxy, traps } = counted(target);
        const tg = createGuard({ policy: keeper(build(proxy)) });
        let ran = 0;
        await expect(tg.guard(() => ++ran, { name: 't' })({})).rejects.toMatchObject({
          code: 'POLICY_ERROR',
        });
        expect(ran).toBe(0);
        expect(traps()).toBe(0);
      });
    }

    it('as the decision itself (only `then` is read, as awaiting any answer does)', async () => {
      const read: (string | symbol)[] = [];
      const proxy = new Proxy(
        { type: 'allow', rules: ['r'] },
        {
          get: (t, k, r) => {
            read.push(k);
            return Reflect.get(t, k, r);
          },
        },
      );
      const tg = createGuard({ policy: keeper(proxy) });
      await expect(tg.guard(() => 1, { name: 't' })({})).rejects.toMatchObject({ code: 'POLICY_ERROR' });
      expect(read.filter((key) => key !== 'then')).toEqual([]);
    });

    it('in rules, answering strings to a check and objects to a copy: denied and recorded', async () => {
      let reads = 0;
      const rulesProxy = new Proxy(['r'], {
        get: (t, k, r) =>
          k === '0' ? (reads++ === 0 ? 'r' : { rule: 'not a string' }) : Reflect.get(t, k, r),
      });
      const audit = memoryAudit();
      const tg = createGuard({ policy: keeper({ type: 'allow', rules: rulesProxy }), audit });
      let ran = 0;
      await expect(tg.guard(() => ++ran, { name: 't' })({})).rejects.toMatchObject({ code: 'POLICY_ERROR' });
      expect(ran).toBe(0);
      const decision = audit.events.find((event) => event.type === 'decision') as unknown;
      expect(decision).toMatchObject({ decision: 'deny', rules: [] });
    });
  });

  describe('a getter anywhere is POLICY_ERROR, and never runs', () => {
    const cases: [string, (g: ReturnType<typeof getter>) => unknown][] = [
      ['type', (g) => g.at({ rules: ['r'] }, 'type')],
      ['rules[0]', (g) => ({ type: 'allow', rules: g.at(['r'], 0) })],
      ['approval.quorum', (g) => ({ type: 'ask', rules: ['r'], reason: 'x', approval: g.at({}, 'quorum') })],
      [
        'approval.approvers[0]',
        (g) => ({ type: 'ask', rules: ['r'], reason: 'x', approval: { approvers: g.at(['a:*'], 0) } }),
      ],
      ['obligations.redact', (g) => ({ type: 'allow', rules: ['r'], obligations: g.at({}, 'redact') })],
      [
        'limits[0].limits.budget.max',
        (g) => ({
          type: 'allow',
          rules: ['r'],
          limits: [{ rule: 'r', limits: { budget: g.at({ sum: 'args.a', per: 1000 }, 'max') } }],
        }),
      ],
      [
        'failed[0].actual',
        (g) => ({
          type: 'deny',
          rules: ['r'],
          code: 'DENIED_BY_RULE',
          reason: 'no',
          failed: [g.at({ path: 'a', expected: 'b' }, 'actual')],
        }),
      ],
    ];
    for (const [where, build] of cases) {
      it(`at ${where}`, () => {
        const g = getter(
          where === 'type' ? 'allow' : where === 'approval.quorum' || where.endsWith('max') ? 1 : ['r'],
        );
        expect(() => normalizeDecision(build(g))).toThrow(/is an accessor/);
        expect(g.reads()).toBe(0);
      });
    }
  });

  it('class instances, symbol keys and non-JSON values are POLICY_ERROR', () => {
    class Obligations {
      maxRows = 1;
    }
    const bad: unknown[] = [
      { type: 'allow', rules: ['r'], obligations: new Obligations() },
      { type: 'allow', rules: ['r'], obligations: { [Symbol('x')]: 1 } },
      { type: 'allow', rules: ['r'], obligations: { maxRows: Number.NaN } },
      { type: 'allow', rules: ['r'], obligations: { maxRows: 10n } },
      { type: 'allow', rules: ['r'], obligations: { maxRows: () => 1 } },
      { type: 'ask', rules: ['r'], reason: 'x', approval: { approvers: new Set(['a:*']) } },
      { type: 'allow', rules: ['r'], limits: [{ rule: 'r', limits: { rate: new String('1/1s') } }] },
    ];
    for (const value of bad) expect(() => normalizeDecision(value)).toThrow(TypeError);
  });

  it('a budget cost function, the one function a decision may carry, is kept', () => {
    const cost = () => 1;
    const decision = normalizeDecision({
      type: 'allow',
      rules: ['r'],
      limits: [{ rule: 'r', limits: { budget: { cost, max: 10, per: 1000 } } }],
    }) as Extract<Decision, { type: 'allow' }>;
    expect(decision.limits?.[0]?.limits.budget?.cost).toBe(cost);
  });
});

describe('the trusted fast path is toolgate’s own', () => {
  it('a deeply frozen decision of a custom engine is still copied (once, then reused)', () => {
    const raw = Object.freeze({
      type: 'allow',
      rules: Object.freeze(['r']),
      obligations: Object.freeze({ redact: Object.freeze(['card']) }),
    });
    const first = normalizeDecision(raw);
    expect(first).not.toBe(raw);
    expect(first).toEqual(raw);
    expect(normalizeDecision(raw)).toBe(first);
  });

  it('frozen at the top but not below: nested changes do not reach the decision', () => {
    const redact = ['card'];
    const approvers = ['admin:*'];
    const budget = { sum: 'args.a', max: 5, per: 1000 };
    const raw = Object.freeze({
      type: 'ask',
      rules: Object.freeze(['r']),
      reason: 'x',
      approval: Object.freeze({ approvers }),
      obligations: Object.freeze({ redact }),
      limits: Object.freeze([Object.freeze({ rule: 'r', limits: Object.freeze({ budget }) })]),
    });
    const decision = normalizeDecision(raw) as Extract<Decision, { type: 'ask' }>;
    redact[0] = 'x';
    approvers[0] = '*';
    budget.max = 1e9;
    expect(decision.obligations?.redact).toEqual(['card']);
    expect(decision.approval?.approvers).toEqual(['admin:*']);
    expect(decision.limits?.[0]?.limits.budget?.max).toBe(5);
    expect(frozenThroughout(decision)).toBe(true);
  });

  it('a frozen decision holding a Proxy is refused without running a trap', () => {
    const { proxy, traps } = counted(Object.freeze(['r']));
    expect(() => normalizeDecision(Object.freeze({ type: 'allow', rules: proxy }))).toThrow(/Proxy/);
    expect(traps()).toBe(0);
  });

  it('every decision rules() makes is frozen all the way down, and used as it is', async () => {
    const engine = rules([
      { id: 'a', effect: 'allow', tool: 'x.*', obligations: { redact: ['card'], maxRows: 5 } },
      {
        id: 'b',
        effect: 'allow',
        tool: '*.y',
        limit: { budget: { sum: 'args.n', max: 10, per: '1m' }, key: ['tool'] },
      },
      { id: 'c', effect: 'ask', tool: 'ask.*', approval: { approvers: ['admin:*'], quorum: 2 } },
      {
        id: 'd',
        effect: 'ask',
        tool: 'ask.two',
        approval: { approvers: ['admin:*', 'ops:*'], timeout: '1m' },
      },
      { id: 'e', effect: 'deny', tool: 'no.*' },
    ]);
    for (const name of ['x.y', 'x.z', 'w.y', 'ask.one', 'ask.two', 'no.way', 'other.tool']) {
      const request = { tool: { name, tags: [] }, args: { n: 1 }, context: {}, now: Date.now() } as never;
      const decision = (await engine.evaluate(request, { signal: new AbortController().signal })) as Decision;
      expect(frozenThroughout(decision), name).toBe(true);
      if (decision.type !== 'deny' || decision.failed === undefined)
        expect(normalizeDecision(decision)).toBe(decision);
    }
  });
});
