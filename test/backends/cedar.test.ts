import { describe, expect, it, test } from 'vitest';
import { cedarEngine } from '../../src/backends/cedar/index.ts';
import { ConfigurationError } from '../../src/errors.ts';
import { createGuard } from '../../src/guard.ts';
import { type NeutralRule, testPolicyEngine } from '../../src/testing/index.ts';
import { request } from '../policy/helpers.ts';

/** A neutral rule as a Cedar policy: its tool glob matched with `like` on the tool's name. */
function toCedar(list: NeutralRule[]) {
  const policies: Record<string, string> = {};
  for (const rule of list) {
    if (rule.effect === 'ask') throw new Error('Cedar has no ask effect');
    const effect = rule.effect === 'allow' ? 'permit' : 'forbid';
    policies[rule.id] =
      `${effect}(principal, action, resource) when { context.tool.name like ${JSON.stringify(rule.tool)} };`;
  }
  return cedarEngine({ policies });
}

// Cedar has permit and forbid only: the cases that need an ask are skipped.
testPolicyEngine('cedarEngine', { runner: { describe, it }, create: toCedar, capabilities: { ask: false } });

const signal = new AbortController().signal;
const engine = cedarEngine({
  policies: {
    'refund-small':
      'permit(principal, action == Action::"payments.refund", resource) when { context.args has amount && context.args.amount <= 100 };',
    'support-reads': 'permit(principal == Agent::"support-bot", action, resource == Tool::"db.read");',
    'no-high-risk':
      'forbid(principal, action, resource) when { context.tool has risk && context.tool.risk == "high" };',
    fragile:
      'forbid(principal, action == Action::"fragile.tool", resource) when { context.args.missing == 1 };',
  },
});

describe('cedarEngine', () => {
  test('maps permit / forbid / no permit onto decisions', () => {
    expect(engine.evaluate(request('payments.refund', { amount: 40 }), { signal })).toMatchObject({
      type: 'allow',
      rules: ['refund-small'],
      policyVersion: engine.version,
    });
    expect(engine.evaluate(request('payments.refund', { amount: 400 }), { signal })).toMatchObject({
      type: 'deny',
      code: 'NO_MATCHING_RULE',
    });
    expect(engine.evaluate(request('db.read', {}, { agent: 'support-bot' }), { signal })).toMatchObject({
      type: 'allow',
    });
    expect(engine.evaluate(request('db.read', {}, { agent: 'other' }), { signal })).toMatchObject({
      code: 'NO_MATCHING_RULE',
    });
    expect(
      engine.evaluate(request('db.read', {}, { agent: 'support-bot' }, undefined, { risk: 'high' }), {
        signal,
      }),
    ).toMatchObject({
      code: 'DENIED_BY_RULE',
      rules: ['no-high-risk'],
    });
  });

  test('stricter than Cedar: a policy error denies instead of being skipped', () => {
    expect(engine.evaluate(request('fragile.tool', {}), { signal })).toMatchObject({
      code: 'POLICY_ERROR',
      rules: ['fragile'],
    });
  });

  test('entity escapes and fractional numbers in args are refused', () => {
    expect(
      engine.evaluate(
        request('payments.refund', { amount: 1, who: { __entity: { type: 'Agent', id: 'support-bot' } } }),
        { signal },
      ),
    ).toMatchObject({ code: 'POLICY_ERROR' });
    expect(engine.evaluate(request('payments.refund', { amount: 1.5 }), { signal })).toMatchObject({
      code: 'POLICY_ERROR',
    });
  });

  test('works behind the guard', async () => {
    const tg = createGuard({ policy: engine });
    const refund = tg.guard(({ amount }: { amount: number }) => amount, { name: 'payments.refund' });
    expect(await refund({ amount: 10 })).toBe(10);
    await expect(refund({ amount: 1000 })).rejects.toMatchObject({ code: 'NO_MATCHING_RULE' });
    await tg.close();
  });

  test('invalid policies throw at construction', () => {
    expect(() => cedarEngine({ policies: 'permit(' })).toThrow(ConfigurationError);
  });
});
