import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { failedLine, failedText } from '../../src/_internal/failed-text.ts';
import { denyOverrides, firstApplicable } from '../../src/policy/combine.ts';
import { normalizeDecision } from '../../src/policy/evaluate.ts';
import { rules } from '../../src/policy/rules.ts';
import type { Rule } from '../../src/policy/schema.ts';
import { pathScope } from '../../src/policy/scopes/path.ts';
import { urlScope } from '../../src/policy/scopes/url.ts';
import { sqlScope } from '../../src/sql/index.ts';
import type { Decision, FailedCondition, JsonObject, ToolContext } from '../../src/types.ts';
import { request } from './helpers.ts';

// Denials name the rule and the condition (docs/policies.md, "Why a call was denied"): for every
// kind of condition, the failed entries say which path, what was expected and what was found.

function deny(list: Rule[], tool: string, args: JsonObject = {}, context: ToolContext = {}, now?: number) {
  const decision = rules(list).evaluate(request(tool, args, context, now), {
    signal: new AbortController().signal,
  }) as Decision;
  if (decision.type !== 'deny') throw new Error(`expected a deny, got ${decision.type}`);
  return { decision, failed: decision.failed ?? [], text: (decision.failed ?? []).map(failedText) };
}

describe('the default deny names the conditions that kept each rule from allowing', () => {
  test('operators: path, expected and the value found', () => {
    const { decision, failed, text } = deny(
      [{ id: 'refund-small', effect: 'allow', tool: 'refund', when: { 'args.amount': { lte: 100 } } }],
      'refund',
      { amount: 500 },
    );
    expect(decision.code).toBe('NO_MATCHING_RULE');
    expect(failed).toEqual([{ rule: 'refund-small', path: 'args.amount', expected: 'lte 100', actual: 500 }]);
    expect(text).toEqual(['args.amount is 500, expected lte 100']);
    expect(Object.isFrozen(failed)).toBe(true);
  });

  test('a missing value is named as missing', () => {
    const { text } = deny(
      [{ id: 'refund-small', effect: 'allow', tool: 'refund', when: { 'args.amount': { lte: 100 } } }],
      'refund',
    );
    expect(text).toEqual(['args.amount is missing, expected lte 100']);
  });

  test('a rule on agent names context.agent', () => {
    const { failed, text } = deny(
      [{ id: 'support-only', effect: 'allow', tool: 'db.query', agent: 'support-*' }],
      'db.query',
    );
    expect(failed).toEqual([{ rule: 'support-only', path: 'context.agent', expected: 'one of support-*' }]);
    expect(text).toEqual(['context.agent is missing, expected one of support-*']);
    const other = deny(
      [{ id: 'support-only', effect: 'allow', tool: 'db.query', agent: ['support-*', 'ops'] }],
      'db.query',
      {},
      { agent: 'sales-bot', principal: 'user:1' },
    );
    expect(other.text).toEqual(['context.agent is "sales-bot", expected one of support-*, ops']);
  });

  test('principal and intent are named the same way', () => {
    const { failed } = deny(
      [{ id: 'r', effect: 'allow', tool: 't', principal: 'user:*', intent: 'ticket-*' }],
      't',
      {},
      { principal: 'svc:x' },
    );
    expect(failed.map((entry) => entry.path)).toEqual(['context.principal', 'context.intent']);
  });

  test('sqlScope: the table outside the scope', () => {
    const { failed, text } = deny(
      [
        {
          id: 'read-orders',
          effect: 'allow',
          tool: 'db.query',
          when: { 'args.sql': sqlScope({ dialect: 'postgresql', tables: ['orders'] }) },
        },
      ],
      'db.query',
      { sql: 'SELECT * FROM customers' },
    );
    expect(text).toEqual(['args.sql reads table customers, outside the scope']);
    expect(failed[0]).toMatchObject({
      rule: 'read-orders',
      path: 'args.sql',
      actual: 'SELECT * FROM customers',
    });
    expect(failed[0]!.expected).toMatch(/^inside the sql scope /);
  });

  test('sqlScope: a write, a function, a column', () => {
    const scope = sqlScope({ dialect: 'postgresql', tables: ['orders'], columns: ['id'] });
    const list: Rule[] = [{ id: 'q', effect: 'allow', tool: 'db', when: { 'args.sql': scope } }];
    expect(deny(list, 'db', { sql: 'DELETE FROM orders' }).text[0]).toMatch(
      /^args\.sql is a \w+ statement; the scope allows only queries$/,
    );
    expect(deny(list, 'db', { sql: 'SELECT pg_sleep(1) FROM orders' }).text[0]).toBe(
      'args.sql calls function pg_sleep, outside the scope',
    );
    expect(deny(list, 'db', { sql: 'SELECT total FROM orders' }).text[0]).toBe(
      'args.sql reads column total of table orders, outside the scope',
    );
    expect(deny(list, 'db', { sql: 'SELEC nonsense' }).text[0]).toMatch(
      /^args\.sql is not a statement the scope can read/,
    );
  });

  test('pathScope: outside the roots, or refused outright', () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'tg-failed-')));
    const list: Rule[] = [
      { id: 'files', effect: 'allow', tool: 'fs', when: { 'args.path': pathScope({ roots: [root] }) } },
    ];
    expect(deny(list, 'fs', { path: '/etc/passwd' }).text).toEqual([
      `args.path is outside the roots ${root}`,
    ]);
    expect(deny(list, 'fs', { path: `${root}/../x` }).text).toEqual([
      'args.path is refused: dot-dot segment',
    ]);
  });

  test('urlScope: the host, a private address, a bad URL', () => {
    const list: Rule[] = [
      {
        id: 'fetch',
        effect: 'allow',
        tool: 'http',
        when: { 'args.url': urlScope({ hosts: ['*.example.com'] }) },
      },
    ];
    expect(deny(list, 'http', { url: 'https://evil.test/x' }).text).toEqual([
      'args.url names host evil.test, outside the scope (hosts *.example.com)',
    ]);
    expect(deny(list, 'http', { url: 'https://127.0.0.1/' }).text).toEqual([
      'args.url names host 127.0.0.1, a private or local address',
    ]);
    expect(deny(list, 'http', { url: 'http://a.example.com/' }).text[0]).toMatch(
      /^args\.url is not a URL the scope accepts/,
    );
  });

  test('all, any and not: the parts that failed', () => {
    const { failed } = deny(
      [
        {
          id: 'r',
          effect: 'allow',
          tool: 't',
          when: {
            all: [{ 'args.a': { eq: 1 } }, { 'args.b': { eq: 2 } }],
            any: [{ 'args.c': { in: ['x', 'y'] } }, { not: { 'args.d': { exists: true } } }],
          },
        },
      ],
      't',
      { a: 1, b: 3, c: 'z', d: true },
    );
    expect(failed.map(({ path, expected, actual }) => ({ path, expected, actual }))).toEqual([
      { path: 'args.b', expected: 'eq 2', actual: 3 },
      { path: 'args.c', expected: 'in ["x","y"]', actual: 'z' },
      { path: 'args.d', expected: 'not exists true', actual: true },
    ]);
  });

  test('a predicate is named by where it stands', () => {
    const { failed } = deny([{ id: 'r', effect: 'allow', tool: 't', when: { all: [() => false] } }], 't');
    expect(failed).toEqual([
      { rule: 'r', path: 'when.all[0]', expected: 'the predicate holds', actual: null },
    ]);
  });

  test('schedule, excluded window and expiry name the time', () => {
    const night = Date.UTC(2026, 0, 5, 23, 0);
    const scheduled = deny(
      [{ id: 'office', effect: 'allow', tool: 't', schedule: { hours: '09:00-17:00', tz: 'UTC' } }],
      't',
      {},
      {},
      night,
    );
    expect(scheduled.failed).toEqual([
      {
        rule: 'office',
        path: 'now',
        expected: 'inside the schedule {"hours":"09:00-17:00","tz":"UTC"}',
        actual: '2026-01-05T23:00:00.000Z',
      },
    ]);
    const expired = deny(
      [{ id: 'old', effect: 'allow', tool: 't', expires: '2026-01-01T00:00:00Z' }],
      't',
      {},
      {},
      night,
    );
    expect(expired.text).toEqual([
      'now is "2026-01-05T23:00:00.000Z", expected before 2026-01-01T00:00:00.000Z',
    ]);
  });

  test('several near misses each carry their rule; a tool no allow or ask rule names says so', () => {
    const { decision, failed } = deny(
      [
        { id: 'a', effect: 'allow', tool: 't', when: { 'args.x': { eq: 1 } } },
        { id: 'b', effect: 'ask', tool: 't', when: { 'args.y': { eq: 1 } } },
      ],
      't',
      { x: 2, y: 2 },
    );
    expect(failed.map((entry) => entry.rule)).toEqual(['a', 'b']);
    expect(decision.rules).toEqual([]);
    expect(failedLine(failed)).toBe('a: args.x is 2, expected eq 1; b: args.y is 2, expected eq 1');
    const named = [{ path: 'tool.name', expected: 'a tool an allow or ask rule names', actual: 't' }];
    expect(deny([{ id: 'a', effect: 'allow', tool: 'other' }], 't').failed).toEqual(named);
  });
});

describe('a deny rule names what made it apply', () => {
  test('a rule without reason still names its condition', () => {
    const night = Date.UTC(2026, 0, 5, 23, 0);
    const { decision, failed } = deny(
      [
        { id: 'allow-all', effect: 'allow', tool: '*' },
        { id: 'office-hours', effect: 'deny', tool: '*', schedule: { hours: '17:00-09:00', tz: 'UTC' } },
      ],
      't',
      {},
      {},
      night,
    );
    expect(decision.reason).toBe('rule office-hours');
    expect(decision.rules).toEqual(['office-hours']);
    expect(failed).toEqual([
      {
        rule: 'office-hours',
        path: 'now',
        expected: 'outside the schedule {"hours":"17:00-09:00","tz":"UTC"}',
        actual: '2026-01-05T23:00:00.000Z',
      },
    ]);
  });

  test('conditions that held are named with what would have avoided them', () => {
    const { failed, text } = deny(
      [{ id: 'no-big', effect: 'deny', tool: 'refund', when: { 'args.amount': { gt: 1000 } } }],
      'refund',
      { amount: 5000 },
    );
    expect(failed).toEqual([{ rule: 'no-big', path: 'args.amount', expected: 'not gt 1000', actual: 5000 }]);
    expect(text).toEqual(['args.amount is 5000, expected not gt 1000']);
  });

  test('an indeterminate condition denies and is named as missing', () => {
    const { text } = deny(
      [
        { id: 'ok', effect: 'allow', tool: 't' },
        { id: 'blocked-agents', effect: 'deny', tool: 't', agent: 'bad-*' },
      ],
      't',
    );
    expect(text).toEqual(['context.agent is missing, expected not one of bad-*']);
  });

  test('a rule with no condition names the tool', () => {
    const { failed } = deny([{ id: 'no-deletes', effect: 'deny', tool: '*.delete*' }], 'files.delete');
    expect(failed).toEqual([
      { rule: 'no-deletes', path: 'tool.name', expected: 'not one of *.delete*', actual: 'files.delete' },
    ]);
  });

  test('values are cut short', () => {
    const { failed } = deny([{ id: 'r', effect: 'allow', tool: 't', when: { 'args.s': { eq: 'x' } } }], 't', {
      s: 'y'.repeat(500),
      big: {},
    });
    expect(String(failed[0]!.actual).length).toBeLessThan(130);
  });
});

describe('failed on decisions of other engines', () => {
  test('a well-formed failed list is kept, copied and frozen', () => {
    const entry: FailedCondition = { path: 'args.x', expected: 'eq 1', actual: { deep: [1] }, rule: 'r' };
    const decision = normalizeDecision({
      type: 'deny',
      rules: [],
      code: 'NO_MATCHING_RULE',
      reason: 'no',
      failed: [entry],
    });
    expect(decision).toMatchObject({ failed: [entry] });
    const failed = (decision as { failed: readonly FailedCondition[] }).failed;
    expect(Object.isFrozen(failed[0]!.actual)).toBe(true);
  });

  test('a malformed one is a policy error', () => {
    for (const failed of [
      'x',
      [{ path: 1, expected: 'e' }],
      [{ path: 'p' }],
      [{ path: 'p', expected: 'e', other: 1 }],
    ])
      expect(() =>
        normalizeDecision({ type: 'deny', rules: [], code: 'NO_MATCHING_RULE', reason: 'no', failed }),
      ).toThrow(TypeError);
  });
});

describe('combined engines keep the failed conditions', () => {
  const signal = new AbortController().signal;
  const strict = rules([
    { id: 'no-big', effect: 'deny', tool: 'refund', when: { 'args.amount': { gt: 1000 } } },
  ]);
  const loose = rules([{ id: 'all', effect: 'allow', tool: '*' }]);

  test('denyOverrides and firstApplicable', async () => {
    const call = request('refund', { amount: 5000 });
    for (const engine of [denyOverrides([loose, strict]), firstApplicable([strict, loose])]) {
      const decision = await engine.evaluate(call, { signal });
      expect(decision).toMatchObject({
        type: 'deny',
        code: 'DENIED_BY_RULE',
        failed: [{ rule: 'no-big', path: 'args.amount', actual: 5000 }],
      });
    }
  });
});
