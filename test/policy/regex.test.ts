import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../src/errors.ts';
import { compileSafeRegex } from '../../src/policy/regex.ts';

describe('linear-time matches', () => {
  test.each([
    ['(a+)+$', `${'a'.repeat(4000)}!`],
    ['(a|aa)*b', 'a'.repeat(4000)],
    ['\\d+\\d+\\d+x', '1'.repeat(4000)],
    ['\\d*\\d*x', '1'.repeat(4000)],
    ['^(\\w+\\s?)*$', `${'word '.repeat(800)}!`],
    ['(x+x+)+y', 'x'.repeat(4000)],
  ])('%s on hostile input answers like RegExp would, without backtracking', (pattern, input) => {
    const regex = compileSafeRegex(pattern, 'test');
    // Native RegExp would take minutes here; the answer is known to be false for each.
    expect(regex.test(input)).toBe(false);
    expect(regex.test(input.slice(0, 3))).toBe(new RegExp(pattern, 'u').test(input.slice(0, 3)));
  });

  test.each([
    ['^[a-z]+@example\\.com$', ['a@example.com', 'a@example.com.evil', 'A@example.com', '@example.com']],
    ['^(foo|bar){2,3}$', ['foofoo', 'foobarbaz', 'foo', 'barbarbar', 'foofoofoofoo']],
    ['colou?r', ['my color', 'colour', 'colr']],
    ['^\\p{Lu}\\p{Ll}*$', ['Émile', 'émile', 'É']],
    ['^.$', ['😀', 'ab', '\n']],
    ['[^]x', ['\nx', 'x']],
    ['^$', ['', 'a']],
    ['a{0}b', ['b', 'ab']],
    ['(?<year>\\d{4})-\\d{2}', ['2026-01', '26-01']],
    ['^(?:a|)b$', ['b', 'ab', 'aab']],
  ])('%s agrees with RegExp', (pattern, inputs) => {
    const regex = compileSafeRegex(pattern, 'test');
    const native = new RegExp(pattern, 'u');
    for (const input of inputs)
      expect(regex.test(input), `${pattern} on ${JSON.stringify(input)}`).toBe(native.test(input));
  });

  test('differential: random patterns and inputs agree with RegExp', () => {
    const atom = fc.constantFrom('a', 'b', '.', '[ab]', '[^a]', '\\d', '\\w', '\\s', 'x', '\\.', '1');
    const node: fc.Arbitrary<string> = fc.letrec<{ re: string }>((tie) => ({
      re: fc.oneof(
        { depthSize: 'small' },
        atom,
        fc.tuple(tie('re'), tie('re')).map(([a, b]) => `${a}${b}`),
        fc.tuple(tie('re'), tie('re')).map(([a, b]) => `(?:${a}|${b})`),
        fc
          .tuple(tie('re'), fc.constantFrom('*', '+', '?', '{2}', '{1,3}', '{0,}', '*?'))
          .map(([a, q]) => `(?:${a})${q}`),
      ),
    })).re;
    const pattern = fc
      .tuple(fc.boolean(), node, fc.boolean())
      .map(([s, re, e]) => `${s ? '^' : ''}${re}${e ? '$' : ''}`);
    fc.assert(
      fc.property(
        pattern,
        fc.array(fc.stringMatching(/^[ab1x. \n]{0,8}$/), { minLength: 1, maxLength: 5 }),
        (source, inputs) => {
          const regex = compileSafeRegex(source, 'fuzz');
          const native = new RegExp(source, 'u');
          for (const input of inputs) expect(regex.test(input)).toBe(native.test(input));
        },
      ),
      { numRuns: 1500 },
    );
  });

  test("differential: with any work budget, the answer is RegExp's or indeterminate", () => {
    const atom = fc.constantFrom('a', 'b', '.', '[^a]', '\\w', 'x', '😀', '\\p{L}');
    const node: fc.Arbitrary<string> = fc.letrec<{ re: string }>((tie) => ({
      re: fc.oneof(
        { depthSize: 'small' },
        atom,
        fc.tuple(tie('re'), tie('re')).map(([a, b]) => `${a}${b}`),
        fc.tuple(tie('re'), tie('re')).map(([a, b]) => `(?:${a}|${b})`),
        fc
          .tuple(tie('re'), fc.constantFrom('*', '+', '?', '{3}', '{0,6}', '{2,5}', '{5,}'))
          .map(([a, q]) => `(?:${a})${q}`),
      ),
    })).re;
    const pattern = fc
      .tuple(fc.boolean(), node, fc.boolean())
      .map(([s, re, e]) => `${s ? '^' : ''}${re}${e ? '$' : ''}`);
    fc.assert(
      fc.property(
        pattern,
        // Short inputs: RegExp backtracks, and nested counted repetition on a long input could
        // take it minutes.
        fc.stringMatching(/^[abxé😀 ]{0,16}$/u),
        fc.integer({ min: 0, max: 5000 }),
        (source, input, budget) => {
          let regex: ReturnType<typeof compileSafeRegex>;
          try {
            regex = compileSafeRegex(source, 'fuzz');
          } catch (error) {
            // A pattern the compiler refuses (too large) has nothing to compare.
            if (ConfigurationError.isInstance(error)) return;
            throw error;
          }
          const expected = new RegExp(source, 'u').test(input);
          const full = regex.run(input);
          expect(full.result).toBe(expected);
          const limited = regex.run(input, budget);
          if (limited.result !== undefined) expect(limited.result).toBe(expected);
          // Deterministic: the work it took is always enough for the same answer.
          expect(regex.run(input, full.steps)).toEqual(full);
          if (budget >= full.steps) expect(limited).toEqual(full);
        },
      ),
      { numRuns: 1500 },
    );
  });

  test('huge repetitions are refused instead of exploding', () => {
    expect(() => compileSafeRegex('(?:(?:a{1000}){1000})', 'test')).toThrow(/too large/);
  });
});
