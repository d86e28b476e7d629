import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../src/errors.ts';
import { createGuard } from '../../src/guard.ts';
import { rules } from '../../src/policy/rules.ts';
import type { Decision } from '../../src/types.ts';
import { request } from './helpers.ts';

function decide(engine: ReturnType<typeof rules>, ...args: Parameters<typeof request>): Decision {
  return engine.evaluate(request(...args), { signal: new AbortController().signal }) as Decision;
}

describe('rules(): semantics', () => {
  const engine = rules([
    { id: 'refund-small', effect: 'allow', tool: 'payments.refund', when: { 'args.amount': { lte: 100 } } },
    {
      id: 'refund-large',
      effect: 'ask',
      tool: 'payments.refund',
      when: { 'args.amount': { gt: 100 } },
      approval: { timeout: '10m', quorum: 1 },
    },
    { id: 'no-deletes', effect: 'deny', tool: '*.delete*', reason: 'deletes are off' },
    { id: 'read', effect: 'allow', tool: 'db.*' },
  ]);

  test('default deny, allow, ask, deny', () => {
    expect(decide(engine, 'other.tool')).toMatchObject({ type: 'deny', code: 'NO_MATCHING_RULE', rules: [] });
    expect(decide(engine, 'payments.refund', { amount: 40 })).toMatchObject({
      type: 'allow',
      rules: ['refund-small'],
    });
    expect(decide(engine, 'payments.refund', { amount: 400 })).toMatchObject({
      type: 'ask',
      rules: ['refund-large'],
      approval: { timeout: 600_000, quorum: 1 },
    });
    expect(decide(engine, 'db.delete')).toMatchObject({
      type: 'deny',
      code: 'DENIED_BY_RULE',
      rules: ['no-deletes'],
      reason: 'deletes are off',
    });
  });

  test('a missing or wrongly typed amount never allows, but still asks', () => {
    expect(decide(engine, 'payments.refund', {})).toMatchObject({ type: 'ask', rules: ['refund-large'] });
    expect(decide(engine, 'payments.refund', { amount: '40' })).toMatchObject({ type: 'ask' });
  });

  test('every decision carries the policy version', () => {
    expect(engine.version).toMatch(/^[0-9a-f]{64}$/);
    for (const name of ['other', 'payments.refund', 'db.delete', 'db.read'])
      expect(decide(engine, name, { amount: 1 }).policyVersion).toBe(engine.version);
  });

  test('the version ignores order and changes with content', () => {
    const a = rules([
      { id: 'a', effect: 'allow', tool: 'x' },
      { id: 'b', effect: 'deny', tool: 'y' },
    ]);
    const b = rules([
      { id: 'b', effect: 'deny', tool: 'y' },
      { id: 'a', effect: 'allow', tool: 'x' },
    ]);
    const c = rules([
      { id: 'a', effect: 'allow', tool: 'x' },
      { id: 'b', effect: 'deny', tool: 'z' },
    ]);
    expect(a.version).toBe(b.version);
    expect(a.version).not.toBe(c.version);
  });
});

describe('rules(): targets, schedules, expiry', () => {
  test('agent / principal / intent globs; a missing identity is indeterminate', () => {
    const engine = rules([
      { id: 'bots', effect: 'allow', tool: 't', agent: 'support-*' },
      { id: 'no-interns', effect: 'deny', tool: 't', principal: ['intern:*'] },
    ]);
    expect(decide(engine, 't', {}, { agent: 'support-bot', principal: 'user:1' }).type).toBe('allow');
    expect(decide(engine, 't', {}, { agent: 'sales-bot', principal: 'user:1' }).type).toBe('deny');
    expect(decide(engine, 't', {}, { agent: 'support-bot', principal: 'intern:7' })).toMatchObject({
      code: 'DENIED_BY_RULE',
    });
    // No principal: the deny rule may apply, so it does.
    expect(decide(engine, 't', {}, { agent: 'support-bot' })).toMatchObject({ code: 'DENIED_BY_RULE' });
    // No agent: the allow rule cannot be shown to apply.
    expect(decide(engine, 't', {}, { principal: 'user:1' })).toMatchObject({ code: 'NO_MATCHING_RULE' });
  });

  test('office hours across DST in Europe/Berlin, read from request.now', () => {
    const engine = rules([
      {
        id: 'work',
        effect: 'allow',
        tool: 'p',
        schedule: { days: 'mon-fri', hours: '08:00-18:00', tz: 'Europe/Berlin' },
      },
    ]);
    // 2026-03-27 (Fri) 07:30 UTC = 08:30 CET → inside
    expect(decide(engine, 'p', {}, {}, Date.UTC(2026, 2, 27, 7, 30)).type).toBe('allow');
    // 2026-03-30 (Mon, after DST) 06:30 UTC = 08:30 CEST → inside; 06:30 UTC in winter would be 07:30
    expect(decide(engine, 'p', {}, {}, Date.UTC(2026, 2, 30, 6, 30)).type).toBe('allow');
    expect(decide(engine, 'p', {}, {}, Date.UTC(2026, 2, 27, 6, 30)).type).toBe('deny');
    // 17:59 local is inside, 18:00 local is outside (end exclusive)
    expect(decide(engine, 'p', {}, {}, Date.UTC(2026, 2, 30, 15, 59)).type).toBe('allow');
    expect(decide(engine, 'p', {}, {}, Date.UTC(2026, 2, 30, 16, 0)).type).toBe('deny');
    // Saturday
    expect(decide(engine, 'p', {}, {}, Date.UTC(2026, 2, 28, 10, 0)).type).toBe('deny');
  });

  test('outside: a deny rule outside a wrapping window; from / until', () => {
    const engine = rules([
      { id: 'ok', effect: 'allow', tool: 'p' },
      { id: 'night', effect: 'deny', tool: 'p', schedule: { hours: '22:00-06:00', tz: 'America/New_York' } },
      {
        id: 'freeze',
        effect: 'deny',
        tool: 'p',
        schedule: { from: '2026-12-24T00:00:00Z', until: '2026-12-27T00:00:00Z' },
      },
    ]);
    expect(decide(engine, 'p', {}, {}, Date.UTC(2026, 0, 5, 15)).type).toBe('allow'); // 10:00 NY
    expect(decide(engine, 'p', {}, {}, Date.UTC(2026, 0, 5, 4))).toMatchObject({ rules: ['night'] }); // 23:00 NY
    expect(decide(engine, 'p', {}, {}, Date.UTC(2026, 11, 25, 15))).toMatchObject({ rules: ['freeze'] });
    expect(decide(engine, 'p', {}, {}, Date.UTC(2026, 11, 27, 15)).type).toBe('allow');
    const outside = rules([
      { id: 'ok', effect: 'allow', tool: 'p' },
      { id: 'office', effect: 'deny', tool: 'p', outside: { hours: '08:00-18:00', tz: 'Europe/Berlin' } },
    ]);
    expect(decide(outside, 'p', {}, {}, Date.UTC(2026, 0, 5, 10)).type).toBe('allow');
    expect(decide(outside, 'p', {}, {}, Date.UTC(2026, 0, 5, 20))).toMatchObject({ rules: ['office'] });
  });

  test('expires stops a rule at the instant', () => {
    const engine = rules([{ id: 'temp', effect: 'allow', tool: 'p', expires: '2026-01-05T10:00:00Z' }]);
    expect(decide(engine, 'p', {}, {}, Date.UTC(2026, 0, 5, 9, 59)).type).toBe('allow');
    expect(decide(engine, 'p', {}, {}, Date.UTC(2026, 0, 5, 10, 0)).type).toBe('deny');
  });
});

describe('rules(): obligations, approval and limits', () => {
  test('obligations strictest wins; limits from every applicable allow/ask rule', () => {
    const engine = rules([
      {
        id: 'a',
        effect: 'allow',
        tool: 'q',
        obligations: { maxRows: 100, timeout: '5s', redact: ['x'] },
        limit: { rate: '10/1m' },
      },
      {
        id: 'b',
        effect: 'allow',
        tool: 'q',
        obligations: { maxRows: 50, maxBytes: 1000, redact: ['y', 'x'] },
      },
      {
        id: 'c',
        effect: 'ask',
        tool: 'q',
        when: { 'args.big': { eq: true } },
        approval: { timeout: '1m', approvers: ['ops:*'], quorum: 2 },
        limit: { concurrency: 2 },
      },
      {
        id: 'd',
        effect: 'ask',
        tool: 'q',
        when: { 'args.big': { eq: true } },
        approval: { timeout: '30s', approvers: ['ops:alice', 'dev:bob'], separationOfDuties: true },
      },
    ]);
    expect(decide(engine, 'q', { big: false })).toEqual({
      type: 'allow',
      rules: ['a', 'b'],
      reason: 'rule a; rule b',
      obligations: { maxRows: 50, maxBytes: 1000, timeout: 5000, redact: ['x', 'y'] },
      limits: [{ rule: 'a', limits: { rate: '10/1m' } }],
      policyVersion: engine.version,
    });
    expect(decide(engine, 'q', { big: true })).toEqual({
      type: 'ask',
      rules: ['c', 'd'],
      reason: 'rule c; rule d',
      approval: { timeout: 30_000, quorum: 2, approvers: ['ops:alice'], separationOfDuties: true },
      obligations: { maxRows: 50, maxBytes: 1000, timeout: 5000, redact: ['x', 'y'] },
      limits: [
        { rule: 'a', limits: { rate: '10/1m' } },
        { rule: 'c', limits: { concurrency: 2 } },
      ],
      policyVersion: engine.version,
    });
  });

  test('budget durations become milliseconds', () => {
    const engine = rules([
      {
        id: 'r',
        effect: 'allow',
        tool: 'pay',
        limit: { budget: { sum: 'args.amount', max: 1000, per: '1d' }, key: ['principal'] },
      },
    ]);
    expect(decide(engine, 'pay')).toMatchObject({
      limits: [
        {
          rule: 'r',
          limits: { budget: { sum: 'args.amount', max: 1000, per: 86_400_000 }, key: ['principal'] },
        },
      ],
    });
  });

  test('through the guard: limits are never silently skipped (a 1/1m rate runs the tool at most once)', async () => {
    const tg = createGuard({
      policy: rules([{ id: 'r', effect: 'allow', tool: 't', limit: { rate: '1/1m' } }]),
    });
    let runs = 0;
    const tool = tg.guard(() => ++runs, { name: 't' });
    await Promise.allSettled([tool({}), tool({})]);
    expect(runs).toBeLessThanOrEqual(1);
    await tg.close();
  });
});

describe('rules(): errors deny', () => {
  test('a throwing predicate in an applicable rule denies with POLICY_ERROR, even next to an allow', () => {
    const engine = rules([
      { id: 'ok', effect: 'allow', tool: 't' },
      {
        id: 'boom',
        effect: 'allow',
        tool: 't',
        when: () => {
          throw new Error('x');
        },
      },
    ]);
    expect(decide(engine, 't')).toMatchObject({ type: 'deny', code: 'POLICY_ERROR', rules: ['boom'] });
    // a rule for another tool is never evaluated
    expect(decide(engine, 'u')).toMatchObject({ code: 'NO_MATCHING_RULE' });
  });

  test.each([
    [
      [
        { id: 'a', effect: 'allow' },
        { id: 'a', effect: 'deny' },
      ],
      /duplicate id/,
    ],
    [[{ id: 'a', effect: 'permit' }], /rule "a": effect/],
    [[{ id: 'a', effect: 'allow', tools: 'x' }], /rule "a": unknown field "tools"/],
    [[{ effect: 'allow' }], /rule #0: id/],
    [[{ id: 'a', effect: 'allow', tool: 'x\u200b' }], /rule "a": tool/],
    [[{ id: 'a', effect: 'allow', tool: '' }], /rule "a": tool/],
    [[{ id: 'a', effect: 'allow', approval: { quorum: 1 } }], /only ask rules/],
    [[{ id: 'a', effect: 'deny', limit: { rate: '1/1m' } }], /deny rules take no limits/],
    [[{ id: 'a', effect: 'allow', limit: { rate: 'ten per minute' } }], /rule "a": limit.rate/],
    [[{ id: 'a', effect: 'allow', obligations: { timeout: 'soon' } }], /rule "a": obligations.timeout/],
    [[{ id: 'a', effect: 'allow', schedule: { tz: 'Mars/Base' } }], /unknown time zone/],
    [[{ id: 'a', effect: 'allow', schedule: { hours: '8-18' } }], /HH:MM-HH:MM/],
    [[{ id: 'a', effect: 'allow', schedule: { days: ['funday'] } }], /unknown day/],
    [[{ id: 'a', effect: 'allow', expires: '2026-01-01' }], /expires/],
    [
      [{ id: 'a', effect: 'allow', when: { 'args.x': { eqq: 1 } } }],
      /rule "a": when.args.x.eqq: unknown operator/,
    ],
    [[JSON.parse('{"id":"a","effect":"allow","__proto__":{"x":1}}')], /unknown field "__proto__"/],
  ])('invalid rules throw at construction: %j', (list, message) => {
    expect(() => rules(list as never)).toThrow(ConfigurationError);
    expect(() => rules(list as never)).toThrow(message);
  });

  test('a tool name with bidi characters is denied', () => {
    const engine = rules([{ id: 'all', effect: 'allow' }]);
    expect(decide(engine, 'pay\u202Ements')).toMatchObject({ type: 'deny', code: 'UNKNOWN_TOOL' });
    expect(decide(engine, 'Payments')).toMatchObject({ type: 'allow' });
  });

  test('names are compared after NFC, exact case', () => {
    const engine = rules([{ id: 'cafe', effect: 'allow', tool: 'caf\u0065\u0301.read' }]);
    expect(decide(engine, 'caf\u00e9.read').type).toBe('allow');
    expect(decide(engine, 'CAF\u00c9.read').type).toBe('deny');
  });
});
