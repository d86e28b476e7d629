// The two ways a tool is run in its call's scope (src/context.ts `runInScope`): each must give the
// tool the scope, carry it into the tool's async work, and give the caller back its own scope,
// whichever AsyncLocalStorage this Node.js has (CI runs the suite on Node 20, 22 and 24).
import { describe, expect, it } from 'vitest';
import { runInResource, runInScope, runWithStorage, type Scope, scopeStorage } from '../../src/context.ts';

const scope = (depth: number): Scope => ({ context: {}, depth, callId: `call-${depth}` });

describe.each([
  ['runWithStorage', runWithStorage],
  ['runInResource', runInResource],
  ['runInScope (this Node.js)', runInScope],
])('%s', (_name, run) => {
  it('gives the tool the scope, in its synchronous part and in its async work', async () => {
    const seen: (number | undefined)[] = [];
    const done = run(
      scope(1),
      async (a: number, b: string) => {
        seen.push(scopeStorage.getStore()?.depth);
        await new Promise((resolve) => setTimeout(resolve, 1));
        seen.push(scopeStorage.getStore()?.depth);
        await null;
        setImmediate(() => seen.push(scopeStorage.getStore()?.depth));
        return `${a}${b}`;
      },
      4,
      'x',
    );
    expect(scopeStorage.getStore()).toBeUndefined();
    expect(await done).toBe('4x');
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual([1, 1, 1]);
  });

  it('gives the caller back its own scope, after a return and after a throw, and nests', () => {
    scopeStorage.run(scope(0), () => {
      expect(run(scope(1), (a: number) => scopeStorage.getStore()!.depth + a, 10, undefined)).toBe(11);
      expect(scopeStorage.getStore()?.depth).toBe(0);
      expect(() =>
        run(
          scope(1),
          () => {
            throw new Error('tool failed');
          },
          undefined,
          undefined,
        ),
      ).toThrow('tool failed');
      expect(scopeStorage.getStore()?.depth).toBe(0);
      const inner = run(
        scope(1),
        () => [scopeStorage.getStore()?.depth, run(scope(2), () => scopeStorage.getStore()?.depth, 0, 0)],
        0,
        0,
      );
      expect(inner).toEqual([1, 2]);
      expect(scopeStorage.getStore()?.depth).toBe(0);
    });
    expect(scopeStorage.getStore()).toBeUndefined();
  });

  it('keeps other stores of the caller visible to the tool', () => {
    const other = new (scopeStorage.constructor as new () => typeof scopeStorage)();
    other.run(scope(7), () => {
      expect(run(scope(1), () => [other.getStore()?.depth, scopeStorage.getStore()?.depth], 0, 0)).toEqual([
        7, 1,
      ]);
    });
  });
});

describe('runInResource', () => {
  it("keeps a store the tool enters (another AsyncLocalStorage's enterWith) from reaching its caller", () => {
    const other = new (scopeStorage.constructor as new () => typeof scopeStorage)();
    runInResource(scope(1), () => other.enterWith(scope(9)), 0, 0);
    expect(other.getStore()).toBeUndefined();
    expect(scopeStorage.getStore()).toBeUndefined();
  });
});
