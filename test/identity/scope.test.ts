import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGlob } from '../../src/_internal/glob.ts';
import { globWithin } from '../../src/identity/scope.ts';

/** Every string over {a, b, .} up to `max` characters. */
function names(max: number): string[] {
  const all = [''];
  for (let length = 1; length <= max; length++) {
    const previous = all.filter((name) => name.length === length - 1);
    for (const name of previous) for (const c of ['a', 'b', '.']) all.push(name + c);
  }
  return all;
}
const NAMES = names(6);

describe('globWithin', () => {
  it('agrees with a brute-force check of every short name', () => {
    const glob = fc
      .array(fc.constantFrom('a', 'b', '.', '*'), { maxLength: 4 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(glob, glob, (inner, outer) => {
        const a = compileGlob(inner);
        const b = compileGlob(outer);
        const bruteForce = NAMES.every((name) => !a.test(name) || b.test(name));
        // Names up to 6 characters decide globs of at most 4: a counterexample needs at most
        // |inner| + 2 characters.
        expect(globWithin(inner, outer), `${inner} within ${outer}`).toBe(bruteForce);
      }),
      { numRuns: 2000 },
    );
  });

  it('examples', () => {
    expect(globWithin('db.orders.*', 'db.*')).toBe(true);
    expect(globWithin('db*', 'db.*')).toBe(false);
    expect(globWithin('*', 'db.*')).toBe(false);
    expect(globWithin('db.query', 'db.query')).toBe(true);
    expect(globWithin('a*b*c', 'a*c')).toBe(true);
    expect(globWithin('a*c', 'a*b*c')).toBe(false);
  });
});
