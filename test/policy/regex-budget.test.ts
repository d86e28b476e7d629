import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compileCondition } from '../../src/policy/conditions.ts';
import { compileSafeRegex, MAX_MATCH_INPUT } from '../../src/policy/regex.ts';
import { CLASS_TEST_STEPS, MAX_MATCH_STEPS } from '../../src/policy/regex-run.ts';
import { rules } from '../../src/policy/rules.ts';
import type { Decision } from '../../src/types.ts';
import { request } from './helpers.ts';

function decide(engine: ReturnType<typeof rules>, req: ReturnType<typeof request>): Decision {
  return engine.evaluate(req, { signal: new AbortController().signal }) as Decision;
}

// One test may overshoot the budget by the class test that crossed it, never more.
const BOUND = MAX_MATCH_STEPS + CLASS_TEST_STEPS;

const ascii = 'a'.repeat(MAX_MATCH_INPUT);
const dotted = 'a.'.repeat(MAX_MATCH_INPUT / 2);
const nonAscii = Array.from({ length: MAX_MATCH_INPUT }, (_, i) => String.fromCodePoint(0x4e00 + i)).join('');
const astral = '😀'.repeat(MAX_MATCH_INPUT / 2);

// Counted repetition makes one state per copy: these keep thousands of states live per position.
const worstCases = [
  '.{0,3000}x',
  '[a-z]{0,500}@',
  '^[\\s\\S]{1,2000}$',
  'x{0,9000}y',
  '[^x]{0,9000}y',
  '(?:.|\\p{L}|[^a]){0,3000}z',
  '(?:(?:a|.){0,40}){0,40}q',
  '[\\p{L}\\p{N}]{0,4000}!',
];

describe('matches: bounded work per test', () => {
  test.each(worstCases)('%s at the input limit stops at the budget, indeterminate', (pattern) => {
    const regex = compileSafeRegex(pattern, 'test');
    for (const input of [ascii, dotted, nonAscii, astral]) {
      expect(regex.run(input).steps, `${pattern} on ${input.slice(0, 4)}…`).toBeLessThanOrEqual(BOUND);
    }
    expect(regex.run(ascii).result).toBeUndefined();
    expect(regex.test(ascii)).toBeUndefined();
  });

  test('a huge optional repetition is bounded rather than overflowing the stack', () => {
    const regex = compileSafeRegex('x{0,9000}y', 'test');
    expect(regex.test('y')).toBe(true);
    expect(regex.test('xxy')).toBe(true);
    expect(regex.test('x')).toBe(false);
    expect(regex.run(ascii)).toMatchObject({ result: undefined });
  });

  // Native RegExp would backtrack for minutes on some of these inputs: the answers are known.
  test.each([
    ['^[a-z0-9.-]{1,253}$', [false, false, false, false]],
    ['^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,255}\\.[A-Za-z]{2,63}$', [false, false, false, false]],
    ['(a|aa)*b', [false, false, false, false]],
    ['(a+)+$', [true, false, false, false]],
    ['^(?:[a-z]{1,100}\\.){1,10}[a-z]{1,100}$', [false, false, false, false]],
    ['\\d+\\d+x', [false, false, false, false]],
    ['^\\p{Lu}\\p{Ll}*$', [false, false, false, false]],
    ['[^x]{0,30}\\.', [false, true, false, false]],
  ])('ordinary %s at the input limit stays well within the budget', (pattern, answers) => {
    const regex = compileSafeRegex(pattern, 'test');
    [ascii, dotted, nonAscii, astral].forEach((input, i) => {
      const { result, steps } = regex.run(input);
      expect(steps).toBeLessThan(MAX_MATCH_STEPS);
      expect(result).toBe(answers[i]);
    });
  });

  test('property: any pattern, any input within the limit, the work stays within the budget', () => {
    const atom = fc.constantFrom('a', '.', '[^x]', '\\w', '\\p{L}', '[\\s\\S]', '(?:a|b|.)');
    const quantifier = fc
      .tuple(fc.integer({ min: 0, max: 1500 }), fc.integer({ min: 0, max: 1500 }))
      .map(([m, n]) => `{${Math.min(m, n)},${Math.max(m, n)}}`);
    const pattern = fc
      .array(fc.tuple(atom, fc.option(quantifier, { nil: '' })), { minLength: 1, maxLength: 4 })
      .map((parts) => parts.map(([a, q]) => `${a}${q}`).join(''));
    const input = fc.constantFrom(ascii, dotted, nonAscii, astral, 'ab'.repeat(2048));
    fc.assert(
      fc.property(pattern, input, (source, text) => {
        let regex: ReturnType<typeof compileSafeRegex>;
        try {
          regex = compileSafeRegex(source, 'fuzz');
        } catch {
          return; // too large: refused when the rule is built
        }
        expect(regex.run(text).steps).toBeLessThanOrEqual(BOUND);
      }),
      { numRuns: 60 },
    );
  });
});

describe('matches: out of budget is indeterminate, and indeterminate never allows', () => {
  const long = request('t', { s: ascii });

  test('the condition is indeterminate, and so is its negation', () => {
    expect(compileCondition({ 'args.s': { matches: '.{0,3000}x' } }, 'r').evaluate(long)).toBeUndefined();
    expect(
      compileCondition({ not: { 'args.s': { matches: '.{0,3000}x' } } }, 'r').evaluate(long),
    ).toBeUndefined();
    // The same pattern on a short value is answered.
    expect(
      compileCondition({ 'args.s': { matches: '.{0,3000}x' } }, 'r').evaluate(request('t', { s: 'ax' })),
    ).toBe(true);
  });

  test('an allow rule does not apply; a deny rule still does', () => {
    const allow = rules([
      { id: 'a', effect: 'allow', tool: 't', when: { 'args.s': { matches: '.{0,3000}x' } } },
    ]);
    expect(decide(allow, long).type).toBe('deny');
    expect(decide(allow, request('t', { s: 'ax' })).type).toBe('allow');
    const deny = rules([
      { id: 'a', effect: 'allow', tool: 't' },
      { id: 'd', effect: 'deny', tool: 't', when: { 'args.s': { matches: 'x{0,9000}y' } } },
    ]);
    expect(decide(deny, long)).toMatchObject({ type: 'deny' });
    expect(decide(deny, request('t', { s: 'a' })).type).toBe('allow');
  });
});
