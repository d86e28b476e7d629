import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { denialMessage } from '../../src/adapters/_shared/denials.ts';
import { memoryAudit } from '../../src/audit/memory.ts';
import type { DecisionEvent } from '../../src/audit/types.ts';
import { ConfigurationError, ToolDeniedError } from '../../src/errors.ts';
import { createGuard } from '../../src/guard.ts';
import { rules } from '../../src/policy/rules.ts';
import type { ToolDenial } from '../../src/types.ts';

// Denials name the rule and the condition (DESIGN §4): the error, the returned denial, the
// decision record and the `decision` event carry `rule` and `failed`, redacted; what the model
// reads follows `denialDetail`.

const policy = rules([
  { id: 'support-only', effect: 'allow', tool: 'db.query', agent: 'support-*' },
  { id: 'login', effect: 'allow', tool: 'login', when: { 'args.password': { eq: 'open sesame' } } },
  { id: 'office-hours', effect: 'deny', tool: 'payments.*' },
]);

describe('a denial names the rule and the failed condition', () => {
  it('in the error: fields and message', async () => {
    const tg = createGuard({ policy });
    const query = tg.guard(() => 'rows', { name: 'db.query' });
    const error = await query({}).catch((e: unknown) => e);
    expect(ToolDeniedError.isInstance(error)).toBe(true);
    const denied = error as ToolDeniedError;
    expect(denied.code).toBe('NO_MATCHING_RULE');
    expect(denied.rule).toBe('support-only');
    expect(denied.failed).toEqual([
      { rule: 'support-only', path: 'context.agent', expected: 'one of support-*' },
    ]);
    expect(denied.message).toContain('support-only: context.agent is missing, expected one of support-*');
  });

  it('a deny rule without reason names its condition, not only the rule', async () => {
    const tg = createGuard({ policy });
    const error = (await tg
      .guard(() => 1, { name: 'payments.refund' })({})
      .catch((e: unknown) => e)) as ToolDeniedError;
    expect(error.reason).toBe('rule office-hours');
    expect(error.rule).toBe('office-hours');
    expect(error.message).toMatch(
      /office-hours: tool\.name is "payments\.refund", expected not one of payments\.\*/,
    );
  });

  it('in the returned denial', async () => {
    const tg = createGuard({ policy, onDeny: 'return' });
    const denial = (await tg.guard(() => 'rows', { name: 'db.query' })(
      {},
      { context: { agent: 'sales-bot' } },
    )) as ToolDenial;
    expect(denial).toMatchObject({
      denied: true,
      code: 'NO_MATCHING_RULE',
      rule: 'support-only',
      failed: [
        { rule: 'support-only', path: 'context.agent', expected: 'one of support-*', actual: 'sales-bot' },
      ],
    });
  });

  it('in the decision record and the decision event, whatever denialDetail says', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy, audit, denialDetail: 'code' });
    const seen: DecisionEvent[] = [];
    tg.on('decision', (event) => seen.push(event));
    await tg
      .guard(() => 1, { name: 'db.query' })({})
      .catch(() => undefined);
    const record = audit.events.find((e) => e.type === 'decision') as DecisionEvent;
    expect(record.rule).toBe('support-only');
    expect(record.failed).toEqual([
      { rule: 'support-only', path: 'context.agent', expected: 'one of support-*' },
    ]);
    expect(seen[0]?.failed).toEqual(record.failed);
  });

  it('allowed calls carry neither; a tool no rule names is named as the failed condition', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: rules([{ id: 'ok', effect: 'allow', tool: 'ok' }]), audit });
    await tg.guard(() => 1, { name: 'ok' })({});
    await tg
      .guard(() => 1, { name: 'unknown' })({})
      .catch(() => undefined);
    const [allowed, denied] = audit.events.filter((e) => e.type === 'decision') as DecisionEvent[];
    expect(allowed).not.toHaveProperty('failed');
    expect(allowed).not.toHaveProperty('rule');
    expect(denied?.failed).toEqual([
      { path: 'tool.name', expected: 'a tool an allow or ask rule names', actual: 'unknown' },
    ]);
    expect(denied).not.toHaveProperty('rule');
  });

  it('redacted like the args: a secret-named path never shows its value', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy, audit, onDeny: 'return' });
    const denial = (await tg.guard(() => 1, { name: 'login' })({ password: 'hunter2-secret' })) as ToolDenial;
    expect(denial.failed[0]).toMatchObject({ path: 'args.password', actual: '[REDACTED]' });
    const record = audit.events.find((e) => e.type === 'decision') as DecisionEvent;
    expect(record.failed?.[0]).toMatchObject({ path: 'args.password', actual: '[REDACTED]' });
    expect(JSON.stringify(audit.events)).not.toContain('hunter2-secret');
    const error = (await createGuard({ policy })
      .guard(() => 1, { name: 'login' })({ password: 'hunter2-secret' })
      .catch((e: unknown) => e)) as ToolDeniedError;
    expect(error.message).not.toContain('hunter2-secret');
    expect(JSON.stringify(error.failed)).not.toContain('hunter2-secret');
  });

  it('redaction paths reach failed conditions too', async () => {
    const tg = createGuard({
      policy: rules([{ id: 'r', effect: 'allow', tool: 't', when: { 'args.note': { eq: 'x' } } }]),
      audit: { sinks: [memoryAudit()], redact: { paths: ['args.note'] } },
      onDeny: 'return',
    });
    const denial = (await tg.guard(() => 1, { name: 't' })({ note: 'private words' })) as ToolDenial;
    expect(denial.failed[0]?.actual).toBe('[REDACTED]');
  });

  it('check() answers with the failed conditions', async () => {
    const tg = createGuard({ policy });
    tg.guard(() => 1, { name: 'db.query' });
    const decision = await tg.check('db.query', {}, { agent: 'x' });
    expect(decision).toMatchObject({
      type: 'deny',
      failed: [{ rule: 'support-only', path: 'context.agent', actual: 'x' }],
    });
  });
});

describe('denialDetail', () => {
  it("defaults to 'reason'; an unknown value is a ConfigurationError at construction", () => {
    expect(createGuard({ policy }).denialDetail).toBe('reason');
    expect(createGuard({ policy, denialDetail: 'full' }).denialDetail).toBe('full');
    expect(() => createGuard({ policy, denialDetail: 'all' as never })).toThrow(ConfigurationError);
    expect(() => createGuard({ policy, denialDetail: 'all' as never })).toThrow(/denialDetail/);
  });

  it('decides how much of a denial the model reads', () => {
    const denial = {
      tool: 'db.query',
      code: 'NO_MATCHING_RULE' as const,
      reason: 'no rule allows this call',
      rule: 'support-only',
      failed: [{ rule: 'support-only', path: 'context.agent', expected: 'one of support-*' }],
    };
    expect(denialMessage(denial, 'code')).toBe('toolgate denied db.query (NO_MATCHING_RULE)');
    expect(denialMessage(denial, 'reason')).toBe(
      'toolgate denied db.query (NO_MATCHING_RULE): no rule allows this call',
    );
    expect(denialMessage(denial, 'full')).toBe(
      'toolgate denied db.query (NO_MATCHING_RULE): no rule allows this call [support-only: context.agent is missing, expected one of support-*]',
    );
    expect(denialMessage({ ...denial, failed: [] }, 'full')).toMatch(/\[rule support-only\]$/);
  });
});

describe('denials outside the rules name their condition too', () => {
  const limited = rules([
    { id: 'pay', effect: 'allow', tool: 'pay', limit: { rate: '2/1m' } },
    { id: 'slow', effect: 'allow', tool: 'slow', limit: { concurrency: 1 } },
    {
      id: 'spend',
      effect: 'allow',
      tool: 'spend',
      limit: { budget: { sum: 'args.amount', max: 100, per: '1d' } },
    },
    { id: 'nest', effect: 'allow', tool: 'nest' },
    { id: 'login', effect: 'allow', tool: 'login' },
  ]);
  const failedOf = (denial: unknown) => (denial as ToolDenial).failed;

  it('INVALID_ARGS: the schema issue at its path, with the value found there; redacted like the args', async () => {
    const audit = memoryAudit();
    const tg = createGuard({ policy: limited, audit, onDeny: 'return' });
    const schema = z.object({ amount: z.number().max(500), items: z.array(z.object({ sku: z.string() })) });
    const pay = tg.guard((args: { amount: number; items: unknown[] }) => args.amount, {
      name: 'pay',
      input: schema,
    });
    expect(failedOf(await pay({ amount: 600, items: [] }))).toEqual([
      {
        path: 'args.amount',
        expected: 'what the input schema accepts',
        problem: expect.stringMatching(/^fails the input schema: .*500/),
        actual: 600,
      },
    ]);
    expect(failedOf(await pay({ amount: 1, items: [{ sku: 7 }] } as never))).toMatchObject([
      { path: 'args.items[0].sku', actual: 7 },
    ]);
    const login = tg.guard(() => 1, { name: 'login', input: z.object({ password: z.string().min(12) }) });
    const denial = (await login({ password: 'hunter2' })) as ToolDenial;
    expect(denial.failed).toMatchObject([{ path: 'args.password', actual: '[REDACTED]' }]);
    expect(JSON.stringify(audit.events)).not.toContain('hunter2');
    const record = audit.events.filter((e) => e.type === 'decision').at(-1) as DecisionEvent;
    expect(record.failed).toEqual(denial.failed);
  });

  it('INVALID_ARGS: what the snapshot refused (an accessor, a key the schema drops, not an object)', async () => {
    const tg = createGuard({ policy: limited, onDeny: 'return' });
    const pay = tg.guard(() => 1, { name: 'pay', input: z.object({ amount: z.number() }) });
    expect(
      failedOf(
        await pay({
          get amount() {
            return 1;
          },
        } as never),
      ),
    ).toEqual([
      {
        path: 'args.amount',
        expected: 'JSON data within the size and depth limits',
        problem: 'is an accessor',
      },
    ]);
    expect(failedOf(await pay({ amount: 1, extra: true } as never))).toMatchObject([
      { path: 'args.extra', problem: 'is not a known argument' },
    ]);
    expect(failedOf(await pay(new Map() as never))).toMatchObject([
      { path: 'args', problem: 'is not a plain object' },
    ]);
  });

  it('limits: the rule, the limit as applied, and what the call ran into', async () => {
    const tg = createGuard({ policy: limited, onDeny: 'return' });
    const pay = tg.guard(() => 1, { name: 'pay' });
    await pay({});
    await pay({});
    const rated = (await pay({})) as ToolDenial;
    expect(rated.code).toBe('RATE_LIMITED');
    expect(rated.rule).toBe('pay');
    expect(rated.failed).toEqual([
      { rule: 'pay', path: 'limit.rate', expected: 'at most 2 calls in 1 minute', problem: 'is used up' },
    ]);
    let release!: () => void;
    const slow = tg.guard(() => new Promise<void>((resolve) => (release = resolve)), { name: 'slow' });
    const first = slow({});
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(failedOf(await slow({}))).toEqual([
      { rule: 'slow', path: 'limit.concurrency', expected: 'at most 1 at once', problem: 'is full' },
    ]);
    release();
    await first;
    const spend = tg.guard(() => 1, { name: 'spend' });
    await spend({ amount: 80 });
    expect(failedOf(await spend({ amount: 30 }))).toEqual([
      {
        rule: 'spend',
        path: 'limit.budget',
        expected: 'at most 100 in 1 day',
        actual: 30,
        problem: "would be exceeded by this call's 30",
      },
    ]);
    expect(failedOf(await spend({ amount: 'ten' }))).toMatchObject([
      { rule: 'spend', path: 'args.amount', expected: 'a finite, non-negative number' },
    ]);
  });

  it('loop protection, call depth and an invalid context', async () => {
    const tg = createGuard({
      policy: limited,
      onDeny: 'return',
      defaults: { maxCallDepth: 1, maxSessionCalls: 1 },
    });
    const pay = tg.guard(() => 1, { name: 'pay' });
    await pay({}, { context: { session: 's1' } });
    expect(failedOf(await pay({}, { context: { session: 's1' } }))).toEqual([
      {
        path: 'context.session',
        expected: 'at most 1 call in 1 day',
        problem: 'made more calls (loop protection)',
      },
    ]);
    const nest: (args: object) => Promise<unknown> = tg.guard(() => nest({}), { name: 'nest' });
    expect(failedOf(await nest({}))).toEqual([
      { path: 'depth', expected: 'at most 1 (defaults.maxCallDepth)', actual: 2 },
    ]);
    expect(failedOf(await pay({}, { context: { agent: 42 } as never }))).toMatchObject([
      {
        path: 'context',
        expected: 'a context the guard accepts',
        problem: expect.stringMatching(/^is refused: /),
      },
    ]);
  });
});
