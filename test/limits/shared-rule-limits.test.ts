import { describe, expect, it } from 'vitest';
import { createGuard } from '../../src/guard.ts';
import { denyOverrides } from '../../src/policy/combine.ts';
import { rules } from '../../src/policy/rules.ts';
import type { PolicyEngine } from '../../src/policy/types.ts';
import { fakeClock } from '../../src/testing/fakes.ts';
import type { Decision, RuleLimits } from '../../src/types.ts';
import { testStores } from '../store/stores.ts';
import { codeOf } from './helpers.ts';

// Counters are per rule id. Two policies combined, each with a rule of one id, put two limits of
// that id on a decision, and they share counters: right when they count alike, and refused
// (POLICY_ERROR) when one would prune or reserve for the other.

const stores = await testStores('rv6:shared-rule');

function twoPolicies(first: RuleLimits, second: RuleLimits): PolicyEngine {
  return denyOverrides([
    rules([{ id: 'reads', effect: 'allow', tool: 'db.read', limit: first as never }]),
    rules([{ id: 'reads', effect: 'allow', tool: 'db.read', limit: second as never }]),
  ]);
}

describe.each(stores)('two limits of one rule id (%s store)', (_name, makeStore) => {
  async function run(
    policy: PolicyEngine,
    calls: number,
    stepMs: number,
    args: Record<string, unknown> = {},
  ) {
    const clock = fakeClock();
    const tg = createGuard({ policy, now: clock.now, onDeny: 'return', store: makeStore() });
    const read = tg.guard(async (_args: Record<string, unknown>) => 'row', { name: 'db.read' });
    const codes: string[] = [];
    for (let i = 0; i < calls; i++) {
      const checked = await tg.check('db.read', args);
      const out = await read(args);
      const code = out === 'row' ? 'ran' : (codeOf(out) ?? '?');
      // check() answers what the call then gets.
      expect(checked.type === 'deny' ? checked.code : 'ran').toBe(code);
      codes.push(code);
      clock.advance(stepMs);
    }
    return codes;
  }

  it('rates over different windows are refused rather than one pruning the other', async () => {
    const codes = await run(twoPolicies({ rate: '3/1h' }, { rate: '100/1s' }), 20, 2000);
    expect(codes.filter((code) => code === 'ran')).toHaveLength(0);
    expect(new Set(codes)).toEqual(new Set(['POLICY_ERROR']));
  });

  it('rates over one window share their hits, and the stricter count holds', async () => {
    const codes = await run(twoPolicies({ rate: '3/1h' }, { rate: '5/60m' }), 10, 2000);
    expect(codes.filter((code) => code === 'ran')).toHaveLength(3);
    expect(codes.slice(3)).toEqual(Array(7).fill('RATE_LIMITED'));
  });

  it('budgets over different windows are refused', async () => {
    const codes = await run(
      twoPolicies(
        { budget: { sum: 'args.n', max: 3, per: '1d' } },
        { budget: { sum: 'args.n', max: 100, per: '1s' } },
      ),
      6,
      2000,
      { n: 1 },
    );
    expect(new Set(codes)).toEqual(new Set(['POLICY_ERROR']));
  });

  it('budgets reserving different amounts are refused', async () => {
    const codes = await run(
      twoPolicies(
        { budget: { sum: 'args.n', max: 3, per: '1d' } },
        { budget: { sum: 'args.m', max: 3, per: '1d' } },
      ),
      4,
      1000,
      { n: 0, m: 1 },
    );
    expect(new Set(codes)).toEqual(new Set(['POLICY_ERROR']));
  });

  it('budgets reserving one amount over one window share it, and the smaller max holds', async () => {
    const codes = await run(
      twoPolicies(
        { budget: { sum: 'args.n', max: 3, per: '1d' } },
        { budget: { cost: (request) => (request.args as { n: number }).n, max: 10, per: '24h' } },
      ),
      5,
      1000,
      { n: 1 },
    );
    expect(codes).toEqual(['ran', 'ran', 'ran', 'BUDGET_EXCEEDED', 'BUDGET_EXCEEDED']);
  });

  it('a custom engine naming one rule twice is held to the same', async () => {
    const engine: PolicyEngine = {
      name: 'engine',
      evaluate: () =>
        ({
          type: 'allow',
          rules: ['r'],
          limits: [
            { rule: 'r', limits: { rate: '1/1h' } },
            { rule: 'r', limits: { rate: '10/1s' } },
          ],
        }) as unknown as Decision,
    };
    const codes = await run(engine, 3, 5000);
    expect(new Set(codes)).toEqual(new Set(['POLICY_ERROR']));
  });
});
