import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../../src/errors.ts';
import { compileCondition, compileWhen } from '../../src/policy/conditions.ts';
import { request } from './helpers.ts';

const req = request(
  't',
  { n: 50, s: '50', list: ['a', 'b'], nested: { x: null }, flag: true },
  {
    agent: 'bot',
    attributes: { tier: 'gold' },
  },
);

function tri(when: unknown, r = req) {
  return compileCondition(when, 'test').evaluate(r);
}

describe('operators are type-strict and three-valued', () => {
  test.each([
    [{ 'args.n': { eq: 50 } }, true],
    [{ 'args.n': { eq: '50' } }, undefined],
    [{ 'args.s': { eq: 50 } }, undefined],
    [{ 'args.n': { ne: 50 } }, false],
    [{ 'args.missing': { eq: 1 } }, undefined],
    [{ 'args.missing': { ne: 1 } }, undefined],
    [{ 'args.nested.x': { eq: 1 } }, undefined],
    [{ 'args.n': { lt: 51 } }, true],
    [{ 'args.n': { lte: 50 } }, true],
    [{ 'args.n': { gt: 50 } }, false],
    [{ 'args.n': { gte: 50 } }, true],
    [{ 'args.s': { lt: 100 } }, undefined],
    [{ 'args.n': { in: [1, 50] } }, true],
    [{ 'args.n': { in: ['50'] } }, undefined],
    [{ 'args.n': { notIn: [1, 2] } }, true],
    [{ 'args.n': { in: [] } }, false],
    [{ 'args.s': { startsWith: '5' } }, true],
    [{ 'args.s': { endsWith: '1' } }, false],
    [{ 'args.n': { startsWith: '5' } }, undefined],
    [{ 'args.list': { includes: 'a' } }, true],
    [{ 'args.list': { includes: 'z' } }, false],
    [{ 'args.s': { includes: '0' } }, true],
    [{ 'args.s': { matches: '^[0-9]+$' } }, true],
    [{ 'args.n': { matches: '^[0-9]+$' } }, undefined],
    [{ 'args.missing': { exists: true } }, false],
    [{ 'args.nested.x': { exists: true } }, false],
    [{ 'args.n': { exists: true } }, true],
    [{ 'args.missing': { exists: false } }, true],
    [{ 'args.list': { eq: ['a', 'b'] } }, true],
    [{ 'args.list': { eq: { a: 1 } } }, undefined],
    [{ 'args.list.0': { eq: 'a' } }, true],
    [{ 'context.agent': { eq: 'bot' } }, true],
    [{ 'context.attributes.tier': { in: ['gold'] } }, true],
    [{ 'tool.name': { eq: 't' } }, true],
    [{ 'args.n': { gte: 10, lte: 20 } }, false],
    [{ 'args.n': { gte: 10, lte: 100 } }, true],
    [{ 'args.n': { eq: 50 }, 'args.missing': { eq: 1 } }, undefined],
    [{ 'args.n': { eq: 1 }, 'args.missing': { eq: 1 } }, false],
  ])('%j → %s', (when, expected) => {
    expect(tri(when)).toBe(expected);
  });
});

describe('combinators follow Kleene logic', () => {
  const T = { 'args.n': { eq: 50 } };
  const F = { 'args.n': { eq: 51 } };
  const U = { 'args.missing': { eq: 1 } };
  test.each([
    [{ not: T }, false],
    [{ not: F }, true],
    [{ not: U }, undefined],
    [{ all: [T, U] }, undefined],
    [{ all: [F, U] }, false],
    [{ all: [U, F] }, false],
    [{ all: [T, T] }, true],
    [{ any: [T, U] }, true],
    [{ any: [U, T] }, true],
    [{ any: [F, U] }, undefined],
    [{ any: [F, F] }, false],
  ])('%j → %s', (when, expected) => {
    expect(tri(when)).toBe(expected);
  });
});

describe('predicates', () => {
  test('true and false pass through', () => {
    expect(tri(() => true)).toBe(true);
    expect(tri({ any: [() => false, T()] })).toBe(true);
  });
  test.each([
    [
      'throws',
      () => {
        throw new Error('boom');
      },
    ],
    ['returns "yes"', () => 'yes'],
    ['returns 1', () => 1],
    ['returns a promise', async () => true],
    ['returns undefined', () => undefined],
  ])('a predicate that %s is an evaluation error', (_name, fn) => {
    expect(() => tri(fn)).toThrow(/predicate/);
    // compileWhen reports it as indeterminate, never true
    expect(compileWhen(fn, 'grant')(req)).toBeUndefined();
  });
  function T() {
    return { 'args.n': { eq: 50 } };
  }
});

describe('compile-time validation', () => {
  test.each([
    [{ 'args.n': { equals: 1 } }, /unknown operator "equals"/],
    [{ 'body.n': { eq: 1 } }, /unknown path/],
    [{ args: { eq: 1 } }, /unknown path/],
    [{ 'args.__proto__': { eq: 1 } }, /not allowed/],
    [{ 'args.constructor.x': { eq: 1 } }, /not allowed/],
    [{ 'args.n': { lt: true } }, /finite number or a string/],
    [{ 'args.n': { in: [1, 'a'] } }, /one type/],
    [{ 'args.n': { in: 'a' } }, /takes a list/],
    [{ 'args.n': { matches: '(?=a)b' } }, /lookahead/],
    [{ 'args.n': { matches: '(?<!a)b' } }, /lookahead and lookbehind/],
    [{ 'args.n': { matches: '\\bword' } }, /word-boundary/],
    [{ 'args.n': { matches: '(\\w)\\1' } }, /back-references/],
    [{ 'args.n': { matches: '[' } }, /invalid pattern/],
    [{ 'args.n': { eq: null } }, /JSON data other than null/],
    [{ 'args.n': {} }, /at least one operator/],
    [{}, /must not be empty/],
    [{ all: [] }, /non-empty list/],
    [{ 'args.n': 5 }, /object of operators/],
    [{ 'args.n': { exists: 'yes' } }, /true or false/],
    [{ 'args.sql': { sqlScope: { tables: ['x'] } } }, /toolgate\/sql/],
    [JSON.parse('{"__proto__": {"eq": 1}}'), /not allowed/],
    ['args.n', /must be an object/],
  ])('%j is refused', (when, message) => {
    expect(() => compileCondition(when, 'rule "r1"')).toThrow(ConfigurationError);
    expect(() => compileCondition(when, 'rule "r1"')).toThrow(message);
    expect(() => compileCondition(when, 'rule "r1"')).toThrow(/rule "r1"/);
  });
  test('safe patterns are accepted', () => {
    for (const pattern of ['^[a-z]+\\.[a-z]+$', '^(foo|bar)$', '^a{1,5}b?$', '^(?:ab)+$'])
      expect(() => compileCondition({ 'args.s': { matches: pattern } }, 'r')).not.toThrow();
  });
  test('a long string against a pattern is indeterminate, not slow', () => {
    const long = request('t', { s: 'a'.repeat(100_000) });
    expect(tri({ 'args.s': { matches: '^a+$' } }, long)).toBeUndefined();
  });
});
