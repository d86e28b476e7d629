import { AssertionError } from 'node:assert';
import { describe, it, expect as vitestExpect } from 'vitest';
import { expect } from '../../src/testing/expect.ts';

/** Whether the assertion throws node's AssertionError (what every runner reports as a failure). */
function fails(assertion: () => void): boolean {
  try {
    assertion();
    return false;
  } catch (error) {
    vitestExpect(error).toBeInstanceOf(AssertionError);
    return true;
  }
}

describe("the conformance suites' assertions", () => {
  it('toEqual: deep data equality, undefined properties count as absent, other objects as they are', () => {
    vitestExpect(fails(() => expect({ a: 1, b: undefined }).toEqual({ a: 1 }))).toBe(false);
    vitestExpect(fails(() => expect({ a: [1, { b: 2 }] }).toEqual({ a: [1, { b: 2 }] }))).toBe(false);
    vitestExpect(fails(() => expect({ a: 1 }).toEqual({ a: 2 }))).toBe(true);
    vitestExpect(fails(() => expect([1, 2]).toEqual([1]))).toBe(true);
    vitestExpect(fails(() => expect(new Date(1)).toEqual(new Date(2)))).toBe(true);
    vitestExpect(fails(() => expect('1').toEqual(1))).toBe(true);
  });

  it('toMatchObject: every expected property, recursively; extra ones are fine', () => {
    vitestExpect(fails(() => expect({ a: { b: 1, c: 2 }, d: 3 }).toMatchObject({ a: { b: 1 } }))).toBe(false);
    vitestExpect(fails(() => expect({ a: { b: 1 } }).toMatchObject({ a: { b: 2 } }))).toBe(true);
    vitestExpect(fails(() => expect({}).toMatchObject({ a: undefined }))).toBe(true);
    vitestExpect(fails(() => expect({ a: [1, 2] }).toMatchObject({ a: [1] }))).toBe(true);
  });

  it('toBe, toBeUndefined, toContain, toHaveLength', () => {
    vitestExpect(fails(() => expect(NaN).toBe(NaN))).toBe(false);
    vitestExpect(fails(() => expect({}).toBe({}))).toBe(true);
    vitestExpect(fails(() => expect(null).toBeUndefined())).toBe(true);
    vitestExpect(fails(() => expect('abc').toContain('b'))).toBe(false);
    vitestExpect(fails(() => expect([1]).toContain(2))).toBe(true);
    vitestExpect(fails(() => expect([1, 2]).toHaveLength(2))).toBe(false);
    vitestExpect(fails(() => expect(undefined).toHaveLength(0))).toBe(true);
  });

  it('resolves and rejects', async () => {
    await expect(Promise.resolve({ a: 1, b: 2 })).resolves.toMatchObject({ a: 1 });
    await vitestExpect(
      expect(Promise.resolve({ a: 1 })).resolves.toMatchObject({ a: 2 }),
    ).rejects.toBeInstanceOf(AssertionError);
    await expect(Promise.reject(new Error('x'))).rejects.toThrow();
    await vitestExpect(expect(Promise.resolve(1)).rejects.toThrow()).rejects.toBeInstanceOf(AssertionError);
  });
});
