import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { rules } from '../../src/policy/rules.ts';
import type { Decision, JsonObject, ToolContext, ToolRequest } from '../../src/types.ts';
import { request } from './helpers.ts';
import { type RefCondition, type RefRule, referenceDecide, toEngineRule } from './reference.ts';

const signal = new AbortController().signal;
const TOOLS = ['db.read', 'db.delete', 'payments.refund', 'fs.read', 'caf\u00e9.x'];
const PATTERNS = [
  '*',
  'db.*',
  '*.read',
  'payments.refund',
  'db.read',
  '*.*e*',
  'caf\u0065\u0301.x',
  'nothing',
  'p*s.r*d',
];
const AGENTS = ['support-bot', 'sales-bot', 'admin'];

const throwsOn13 = (r: ToolRequest) => {
  if (r.args.a === 13) throw new Error('thirteen');
  return typeof r.args.a === 'number' && r.args.a > 5;
};
const notBoolean = (r: ToolRequest) => (r.args.b === 'x' ? ('yes' as unknown as boolean) : r.args.b === 'y');

const leaf: fc.Arbitrary<RefCondition> = fc.oneof(
  fc.record({
    kind: fc.constant('op' as const),
    path: fc.constantFrom('args.a', 'args.b', 'context.agent', 'args.missing'),
    op: fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte'),
    operand: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constantFrom('x', 'y', 'support-bot')),
  }),
  fc.record({
    kind: fc.constant('op' as const),
    path: fc.constantFrom('args.a', 'args.b', 'context.agent'),
    op: fc.constantFrom('in', 'notIn'),
    operand: fc.oneof(
      fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 3 }),
      fc.array(fc.constantFrom('x', 'y', 'admin'), { maxLength: 3 }),
    ),
  }),
  fc.record({
    kind: fc.constant('op' as const),
    path: fc.constantFrom('args.a', 'args.b', 'args.missing'),
    op: fc.constant('exists'),
    operand: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('op' as const),
    path: fc.constantFrom('args.b', 'context.agent'),
    op: fc.constant('startsWith'),
    operand: fc.constantFrom('x', 'sup', ''),
  }),
  fc.constantFrom<RefCondition>({ kind: 'predicate', fn: throwsOn13 }, { kind: 'predicate', fn: notBoolean }),
);

const condition: fc.Arbitrary<RefCondition> = fc.letrec<{ node: RefCondition }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({
      kind: fc.constantFrom('all' as const, 'any' as const),
      parts: fc.array(tie('node'), { minLength: 1, maxLength: 3 }),
    }),
    fc.record({ kind: fc.constant('not' as const), part: tie('node') }),
  ),
})).node;

const NOW = Date.UTC(2026, 0, 5, 12);
const rule = (id: string): fc.Arbitrary<RefRule> =>
  fc
    .record(
      {
        effect: fc.constantFrom('allow' as const, 'deny' as const, 'ask' as const),
        tool: fc.array(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 2 }),
        agent: fc.array(fc.constantFrom('support-*', 'admin', '*-bot'), { minLength: 1, maxLength: 2 }),
        when: condition,
        hoursUtc: fc
          .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 1, max: 24 }))
          .filter(([a, b]) => a !== b),
        expires: fc.integer({ min: NOW - 3_600_000, max: NOW + 3_600_000 }),
      },
      { requiredKeys: ['effect'] },
    )
    .map((r) => ({ id, ...r }));

const ruleSet = fc
  .integer({ min: 0, max: 6 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => rule(`r${i}`))))
  .map((list) => list as RefRule[]);

const call = fc.record({
  tool: fc.constantFrom(...TOOLS),
  args: fc.record(
    {
      a: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constant('7'), fc.constant(null), fc.constant(13)),
      b: fc.constantFrom('x', 'y', 'z', 5),
    },
    { requiredKeys: [] },
  ),
  agent: fc.option(fc.constantFrom(...AGENTS), { nil: undefined }),
  now: fc.integer({ min: NOW - 86_400_000, max: NOW + 86_400_000 }),
});

function toRequest(c: {
  tool: string;
  args: Record<string, unknown>;
  agent: string | undefined;
  now: number;
}): ToolRequest {
  const context: ToolContext = c.agent === undefined ? {} : { agent: c.agent };
  return request(c.tool, c.args as JsonObject, context, c.now);
}

function decide(list: readonly RefRule[], req: ToolRequest): Decision {
  return rules(list.map(toEngineRule) as never).evaluate(req, { signal }) as Decision;
}

function summary(decision: Decision) {
  return {
    type: decision.type,
    code: decision.type === 'deny' ? decision.code : undefined,
    rules: [...decision.rules],
  };
}

describe('differential: the engine agrees with the reference evaluator', () => {
  test('5,000+ generated (rules, call, context, clock) cases agree on decision and deciding rules', () => {
    let cases = 0;
    fc.assert(
      fc.property(ruleSet, fc.array(call, { minLength: 1, maxLength: 4 }), (list, calls) => {
        const engine = rules(list.map(toEngineRule) as never);
        for (const c of calls) {
          const req = toRequest(c);
          const expected = referenceDecide(list, req);
          const actual = summary(engine.evaluate(req, { signal }) as Decision);
          expect(actual).toEqual({ type: expected.type, code: expected.code, rules: expected.rules });
          cases += 1;
        }
      }),
      { numRuns: 2500 },
    );
    expect(cases).toBeGreaterThanOrEqual(5000);
  }, 120_000);
});

describe('guarantees as properties', () => {
  test('G2: deny beats ask beats allow', () => {
    fc.assert(
      fc.property(ruleSet, call, (list, c) => {
        const req = toRequest(c);
        const decision = decide(list, req);
        const alone = list.map((r) => decide([r], req));
        if (alone.some((d) => d.type === 'deny' && d.code !== 'NO_MATCHING_RULE'))
          expect(decision.type).toBe('deny');
        else if (alone.some((d) => d.type === 'ask')) expect(decision.type).toBe('ask');
        else if (alone.some((d) => d.type === 'allow')) expect(decision.type).toBe('allow');
        else expect(decision).toMatchObject({ type: 'deny', code: 'NO_MATCHING_RULE' });
      }),
      { numRuns: 500 },
    );
  });

  test('G4: order and duplicates never change a decision', () => {
    fc.assert(
      fc.property(
        ruleSet.chain((list) =>
          fc.tuple(
            fc.constant(list),
            fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }),
          ),
        ),
        call,
        fc.nat(),
        ([list, shuffled], c, pick) => {
          const req = toRequest(c);
          const original = decide(list, req);
          expect(decide(shuffled, req)).toEqual(original);
          if (list.length > 0) {
            const dup = { ...list[pick % list.length]!, id: 'zz-dup' };
            const withDup = decide([...shuffled, dup], req);
            expect(withDup.type).toBe(original.type);
            if (original.type === 'deny' && withDup.type === 'deny') expect(withDup.code).toBe(original.code);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  const noErrors = (r: RefRule) =>
    JSON.stringify(toEngineRule(r)).includes('"when"') === false || !hasPredicate(r.when);
  function hasPredicate(c: RefCondition | undefined): boolean {
    if (c === undefined) return false;
    if (c.kind === 'predicate') return true;
    if (c.kind === 'not') return hasPredicate(c.part);
    if (c.kind === 'all' || c.kind === 'any') return c.parts.some(hasPredicate);
    return false;
  }

  test('G5: adding an allow never turns allow into deny; adding a deny never turns deny into allow', () => {
    fc.assert(
      fc.property(ruleSet, rule('added').filter(noErrors), call, (list, added, c) => {
        const req = toRequest(c);
        const before = decide(list, req);
        const after = decide([...list, added], req);
        if (added.effect === 'allow' && before.type === 'allow') expect(after.type).toBe('allow');
        if (added.effect === 'deny' && before.type === 'deny') expect(after.type).toBe('deny');
        if (added.effect === 'deny' && before.type !== 'allow') expect(after.type).not.toBe('allow');
      }),
      { numRuns: 500 },
    );
  });

  test('G7: evaluation is pure: same inputs and clock, same decision; request untouched', () => {
    fc.assert(
      fc.property(ruleSet, call, (list, c) => {
        const engine = rules(list.map(toEngineRule) as never);
        const req = toRequest(c);
        const snapshot = JSON.stringify(req);
        const first = engine.evaluate(req, { signal });
        const second = engine.evaluate(req, { signal });
        const fresh = rules(list.map(toEngineRule) as never).evaluate(toRequest(c), { signal });
        expect(second).toEqual(first);
        expect(fresh).toEqual(first);
        expect(JSON.stringify(req)).toBe(snapshot);
        expect(Object.isFrozen(first)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test('fuzz: random rule documents never throw anything but ConfigurationError, and compiled ones never throw on evaluation', () => {
    const anyJson = fc.jsonValue({ maxDepth: 4 });
    const field = fc.constantFrom(
      'id',
      'effect',
      'tool',
      'agent',
      'when',
      'schedule',
      'outside',
      'limit',
      'approval',
      'obligations',
      'reason',
      'expires',
      '__proto__',
      'x',
    );
    const doc = fc.array(
      fc.oneof(
        fc.dictionary(field, anyJson, { maxKeys: 6 }),
        fc.record({
          id: fc.string({ maxLength: 4 }),
          effect: fc.constantFrom('allow', 'deny', 'ask'),
          when: fc.dictionary(
            fc.constantFrom('args.a', 'all', 'any', 'not', 'context.agent', 'args.b.c'),
            anyJson,
            { maxKeys: 3 },
          ),
        }),
      ),
      { maxLength: 4 },
    );
    fc.assert(
      fc.property(doc, call, (list, c) => {
        let engine: ReturnType<typeof rules>;
        try {
          engine = rules(list as never);
        } catch (error) {
          expect((error as Error).name).toBe('ConfigurationError');
          return;
        }
        const decision = engine.evaluate(toRequest(c), { signal }) as Decision;
        expect(['allow', 'deny', 'ask']).toContain(decision.type);
      }),
      { numRuns: 1000 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
