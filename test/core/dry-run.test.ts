import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  autoApprove,
  autoDeny,
  createGuard,
  type Decision,
  type DecisionEvent,
  type GrantOptions,
  memoryAudit,
  type PolicyEngine,
  type Rule,
  rules,
  type ToolContext,
} from '../../src/index.ts';
import { fakeClock } from '../../src/testing/index.ts';

// G13: `tg.check()` runs the steps of a call in peek mode, so on the same state it reaches the
// decision and code the call reaches. Random policies (with decisions the guard cannot enforce),
// arguments, contexts, grants, suspensions and limit states; each step checks, then calls, then
// lets the clock move, so the limit state grows from the calls before it.

const TOOLS = ['pay.refund', 'pay.charge', 'db.read'] as const;
const PRINCIPALS = ['user:1', 'user:2'];
const AGENTS = ['bot-a', 'bot-b'];

const ruleArb = (id: string): fc.Arbitrary<Rule> =>
  fc
    .record(
      {
        effect: fc.constantFrom('allow' as const, 'allow' as const, 'ask' as const, 'deny' as const),
        tool: fc.constantFrom('pay.*', 'pay.refund', 'db.*', '*'),
        agent: fc.constantFrom('bot-a', 'bot-*'),
        when: fc.constantFrom<Rule['when']>(
          { 'args.amount': { lte: 50 } },
          { 'args.amount': { gt: 50 } },
          { 'args.amount': { exists: true } },
        ),
        limit: fc.record(
          {
            rate: fc.constantFrom('1/1m', '2/1m', '3/1h'),
            concurrency: fc.constantFrom(1, 2),
            budget: fc.constant({ sum: 'args.amount', max: 100, per: '1h' }),
            key: fc.constantFrom<('tool' | 'principal' | 'agent')[]>(['tool'], ['principal'], ['agent']),
          },
          { requiredKeys: [] },
        ),
        obligations: fc.constantFrom({ maxRows: 5 }, { timeout: 1000 }, { maxBytes: 1_000 }),
        approval: fc.constantFrom({ quorum: 1 }, { timeout: '1m' }, { separationOfDuties: true }),
      },
      { requiredKeys: ['effect', 'tool'] },
    )
    .map(({ approval, limit, obligations, ...fields }) => {
      // Only ask rules take approval requirements; deny rules take neither limits nor obligations.
      const rule: Record<string, unknown> = { id, ...fields };
      if (fields.effect === 'ask' && approval !== undefined) rule.approval = approval;
      if (fields.effect !== 'deny' && limit !== undefined && Object.keys(limit).some((key) => key !== 'key'))
        rule.limit = limit;
      if (fields.effect !== 'deny' && obligations !== undefined) rule.obligations = obligations;
      return rule as unknown as Rule;
    });

const policyArb = fc
  .array(fc.nat(), { minLength: 0, maxLength: 4 })
  .chain((seeds) => fc.tuple(...seeds.map((_, index) => ruleArb(`r${index}`))));

/** What a malformed engine adds to some decisions (keyed by `args.flag`, so check and call see the same). */
const BROKEN: Record<string, object> = {
  obligation: { obligations: { watermark: true } },
  timeout: { obligations: { timeout: 'soon' } },
  approval: { approval: { quorum: 0 } },
};

function wrap(inner: PolicyEngine): PolicyEngine {
  return {
    name: 'random',
    evaluate(request, options) {
      const decision = inner.evaluate(request, options) as Decision;
      const broken = BROKEN[String(request.args.flag)];
      return broken === undefined || decision.type === 'deny'
        ? decision
        : ({ ...decision, ...broken } as Decision);
    },
  };
}

const argsArb = fc.record(
  {
    amount: fc.oneof(fc.integer({ min: 0, max: 120 }), fc.constant('40')),
    flag: fc.constantFrom('none', 'obligation', 'timeout', 'approval'),
  },
  { requiredKeys: ['flag'] },
);

const contextArb: fc.Arbitrary<ToolContext> = fc.oneof(
  fc.record(
    {
      agent: fc.constantFrom(...AGENTS),
      principal: fc.constantFrom(...PRINCIPALS),
      session: fc.constantFrom('s1', 's2'),
    },
    { requiredKeys: [] },
  ),
  fc.constant({ agent: 7 } as unknown as ToolContext),
);

const grantArb: fc.Arbitrary<GrantOptions> = fc.record(
  {
    tool: fc.constantFrom('pay.*', 'pay.refund', 'db.read'),
    principal: fc.constantFrom(...PRINCIPALS),
    maxUses: fc.integer({ min: 1, max: 2 }),
    for: fc.constantFrom('1m', '1h'),
  },
  { requiredKeys: ['tool', 'for'] },
);

const setupArb = fc.record({
  rules: policyArb,
  approver: fc.constantFrom('none', 'approve', 'deny'),
  grants: fc.array(grantArb, { maxLength: 2 }),
  suspend: fc.option(fc.constantFrom({ agent: 'bot-b' }, { tool: 'pay.charge' }), { nil: undefined }),
  maxSessionCalls: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  steps: fc.array(
    fc.record({
      tool: fc.constantFrom(...TOOLS),
      args: argsArb,
      context: contextArb,
      advance: fc.constantFrom(0, 1_000, 30_000, 3_600_000),
    }),
    { minLength: 1, maxLength: 8 },
  ),
});

const Amount = z.object({ amount: z.number().optional(), flag: z.string() });

describe('check() agrees with the call (G13)', () => {
  it('on the decision and its code, for random policies, args, contexts, grants and limit states', async () => {
    await fc.assert(
      fc.asyncProperty(setupArb, async (setup) => {
        const clock = fakeClock();
        const audit = memoryAudit();
        const approver =
          setup.approver === 'approve'
            ? autoApprove({ approver: 'alice' })
            : setup.approver === 'deny'
              ? autoDeny({ approver: 'alice' })
              : undefined;
        const tg = createGuard({
          policy: wrap(rules(setup.rules)),
          audit,
          now: clock.now,
          onDeny: 'return',
          ...(approver === undefined ? {} : { approver }),
          ...(setup.maxSessionCalls === undefined
            ? {}
            : { defaults: { maxSessionCalls: setup.maxSessionCalls } }),
        });
        const tools = {
          'pay.refund': tg.guard((args: { amount?: number }) => [args.amount], { name: 'pay.refund' }),
          'pay.charge': tg.guard(() => 'charged', { name: 'pay.charge', input: Amount }),
          'db.read': tg.guard(() => 'read', { name: 'db.read' }),
        };
        for (const grant of setup.grants) await tg.grants.issue(grant);
        if (setup.suspend !== undefined) await tg.suspend(setup.suspend);

        for (const step of setup.steps) {
          const checked = await tg.check(step.tool, step.args, step.context);
          const before = audit.events.length;
          await tools[step.tool](step.args as never, { context: step.context });
          const events = audit.events.slice(before);
          const decision = events.find((event): event is DecisionEvent => event.type === 'decision');
          const asked = events.some((event) => event.type === 'approval-request');
          expect(decision).toBeDefined();
          if (checked.type === 'deny') {
            expect({ decision: decision?.decision, code: decision?.code }).toEqual({
              decision: 'deny',
              code: checked.code,
            });
            expect(asked).toBe(false);
          } else if (checked.type === 'allow') {
            expect({ decision: decision?.decision, code: decision?.code }).toEqual({
              decision: 'allow',
              code: undefined,
            });
            expect(asked).toBe(false);
          } else {
            // An ask: the approver is asked, and whatever it answers decides.
            expect(asked).toBe(true);
            expect(decision?.policyDecision).toBe('ask');
            if (setup.approver === 'deny') expect(decision?.code).toBe('APPROVAL_DENIED');
            if (setup.approver === 'approve') expect(decision?.decision).toBe('allow');
          }
          clock.advance(step.advance);
        }
        await tg.close();
      }),
      { numRuns: 300 },
    );
  });
});
